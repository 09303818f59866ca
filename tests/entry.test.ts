// The package entries: Node's ('earshot' → src/node.ts → dist/index.mjs) has everything the
// README's library example uses, including the file-system helpers the browser entry lacks.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as nodeEntry from '../src/node.ts';
import * as browserEntry from '../src/index.ts';

test('the Node entry exports the README example and the browser entry stays free of fs helpers', () => {
  for (const name of ['initBackend', 'loadSvdCnn', 'loadMono', 'explain', 'createClassifier', 'readWavFile', 'writeWavFile', 'loadTfjsModel', 'melSpectrogram', 'stft', 'weightedRidge']) {
    assert.type((nodeEntry as Record<string, unknown>)[name], 'function', name);
  }
  for (const name of ['loadMono', 'readWavFile', 'writeWavFile', 'loadTfjsModel']) {
    assert.is((browserEntry as Record<string, unknown>)[name], undefined, name);
  }
});

test.run();
