/**
 * src/cli/options.ts: the option validators every `earshot` command uses. Each refusal is a
 * BAD_USAGE EarshotError naming the option, the value given and the command's --help.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Options, choices, parseCommandArgs, shellQuote, takeKeyValues, usageError } from '../src/cli/options.ts';
import { throwsCode } from './helpers.ts';

const opts = (values: Record<string, unknown>) => new Options('demo-cmd', values);
const HINT = /\(see `earshot demo-cmd --help`\)$/;

test('usageError and parseCommandArgs: BAD_USAGE with the --help hint of the command', () => {
  throwsCode(() => usageError('evaluate', 'bad thing'), 'BAD_USAGE', /^bad thing \(see `earshot evaluate --help`\)$/);
  const specs = { out: { type: 'string', short: 'o' }, fresh: { type: 'boolean' } } as const;
  const r = parseCommandArgs('x', ['a.wav', '-o', 'dir', '--fresh'], specs);
  assert.equal({ ...r.values }, { out: 'dir', fresh: true });
  assert.equal(r.positionals, ['a.wav']);
  throwsCode(() => parseCommandArgs('x', ['--bogus'], specs), 'BAD_USAGE', /'--bogus'.*\(see `earshot x --help`\)/);
  throwsCode(() => parseCommandArgs('x', ['--out'], specs), 'BAD_USAGE', /--out/);
  throwsCode(() => parseCommandArgs('x', ['a.wav'], specs, { positionals: false }), 'BAD_USAGE', /positional/);
  const o = Options.parse('explain --method lmac', ['clip.wav', '--out', 'd'], specs);
  assert.is(o.onePositional('input WAV file'), 'clip.wav');
  assert.is(o.string('out'), 'd');
  throwsCode(() => Options.parse('explain --method lmac', [], specs).onePositional('input WAV file'), 'BAD_USAGE', /^explain needs exactly one input WAV file, got 0 \(see `earshot explain --method lmac --help`\)$/);
  throwsCode(() => Options.parse('mel', ['a', 'b'], specs).onePositional('input WAV file'), 'BAD_USAGE', /got 2 \(a b\)/);
  throwsCode(() => Options.parse('sanity', ['x.wav'], specs).noPositionals('use --audio'), 'BAD_USAGE', /unexpected argument 'x\.wav' \(use --audio\)/);
});

test('int: decimal integers within [min, max]; the default when absent', () => {
  const b = { min: 1, max: 64 };
  assert.is(opts({}).int('workers', b), undefined);
  assert.is(opts({}).int('workers', { ...b, def: 2 }), 2);
  assert.is(opts({ workers: '8' }).int('workers', { ...b, def: 2 }), 8);
  assert.is(opts({ workers: ' 64 ' }).int('workers', b), 64);
  assert.is(opts({ workers: '1' }).int('workers', b), 1);
  assert.is(opts({ seed: '4294967295' }).int('seed', { min: 0, max: 0xffffffff }), 0xffffffff);
  const bad = (v: unknown, re: RegExp) => throwsCode(() => opts({ workers: v }).int('workers', b), 'BAD_USAGE', re);
  bad('many', /^--workers must be an integer in \[1, 64\], got 'many' \(see/);
  bad('NaN', /--workers .* got 'NaN'/);
  bad('Infinity', /--workers .* got 'Infinity'/);
  bad('', /--workers .* got ''/);
  bad('0', /--workers must be an integer in \[1, 64\], got '0'/);
  bad('65', /--workers .* got '65'/);
  bad('-1', /--workers .* got '-1'/);
  bad('2.5', /--workers .* got '2\.5'/);
  bad('2.0', /--workers .* got '2\.0'/);
  bad('1e1', /--workers .* got '1e1'/);
  bad('0x10', /--workers .* got '0x10'/);
  bad(true, /--workers must be an integer in \[1, 64\], got no value/);
  for (const v of ['x', '0', true]) throwsCode(() => opts({ workers: v }).int('workers', b), 'BAD_USAGE', HINT);
  // without max: unbounded, and the message says only the lower bound
  assert.is(opts({ epochs: '100000000000' }).int('epochs', { min: 1 }), 1e11);
  throwsCode(() => opts({ epochs: '-1' }).int('epochs', { min: 1 }), 'BAD_USAGE', /^--epochs must be an integer ≥ 1, got '-1'/);
  throwsCode(() => opts({ epochs: '99999999999999999999' }).int('epochs', { min: 1 }), 'BAD_USAGE', /--epochs/);
});

test('num: finite numbers within inclusive or exclusive bounds', () => {
  assert.is(opts({}).num('lr'), undefined);
  assert.is(opts({}).num('lr', { def: 1e-3, min: 0, max: 1, exclusiveMin: true }), 1e-3);
  assert.is(opts({ lr: '1' }).num('lr', { min: 0, max: 1, exclusiveMin: true }), 1);
  assert.is(opts({ lr: ' 2.5e-4 ' }).num('lr', { min: 0, max: 1 }), 2.5e-4);
  assert.is(opts({ 'min-data': '-3.5' }).num('min-data'), -3.5);
  assert.is(opts({ at: '0' }).num('at', { min: 0 }), 0);
  const bad = (v: unknown, b: Parameters<Options['num']>[1], re: RegExp) => throwsCode(() => opts({ lr: v }).num('lr', b), 'BAD_USAGE', re);
  const unit = { min: 0, max: 1, exclusiveMin: true };
  bad('fast', unit, /^--lr must be a number in \(0, 1\], got 'fast' \(see/);
  bad('NaN', unit, /--lr .* got 'NaN'/);
  bad('Infinity', {}, /^--lr must be a number, got 'Infinity'/);
  bad('-Infinity', { max: 0 }, /--lr must be a number ≤ 0, got '-Infinity'/);
  bad('', unit, /--lr .* got ''/);
  bad('   ', unit, /--lr .* got '   '/);
  bad('0', unit, /--lr must be a number in \(0, 1\], got '0'/);
  bad('1.5', unit, /got '1\.5'/);
  bad('-0.1', { min: 0 }, /--lr must be a number ≥ 0, got '-0\.1'/);
  bad('0', { min: 0, exclusiveMin: true }, /--lr must be a number > 0, got '0'/);
  bad('1', { max: 1, exclusiveMax: true }, /--lr must be a number < 1, got '1'/);
  bad('1', { min: 0, max: 1, exclusiveMin: true, exclusiveMax: true, example: '0.999' }, /--lr must be a number in \(0, 1\), e\.g\. 0\.999, got '1'/);
  bad('11', { min: 0, max: 10 }, /--lr must be a number in \[0, 10\], got '11'/);
  bad(true, unit, /--lr must be a number in \(0, 1\], got no value/);
});

test('oneOf: one of the allowed values, listing them when refused; required without a default', () => {
  const engines = ['auto', 'tfjs', 'ort', 'ort-web'] as const;
  assert.is(opts({}).oneOf('engine', engines, 'auto'), 'auto');
  assert.is(opts({ engine: 'ort' }).oneOf('engine', engines, 'auto'), 'ort');
  throwsCode(() => opts({ engine: 'gpu' }).oneOf('engine', engines, 'auto'), 'BAD_USAGE', /^--engine must be one of auto, tfjs, ort, ort-web, got 'gpu' \(see/);
  throwsCode(() => opts({ engine: '' }).oneOf('engine', engines, 'auto'), 'BAD_USAGE', /--engine .* got ''/);
  throwsCode(() => opts({ engine: 'Auto' }).oneOf('engine', engines, 'auto'), 'BAD_USAGE', /--engine .* got 'Auto'/);
  throwsCode(() => opts({ engine: true }).oneOf('engine', engines, 'auto'), 'BAD_USAGE', /--engine .* got no value/);
  throwsCode(() => opts({ format: 'xml' }).oneOf('format', ['json', 'csv'] as const, 'json'), 'BAD_USAGE', /^--format must be json or csv, got 'xml'/);
  throwsCode(() => opts({}).oneOf('domain', ['waveform', 'spectrogram'] as const), 'BAD_USAGE', /^--domain is required: waveform or spectrogram \(see/);
  assert.is(choices(['a']), 'one of a');
  assert.is(choices(['a', 'b']), 'a or b');
  assert.is(choices(['a', 'b', 'c']), 'one of a, b, c');
});

test('string, required, flag', () => {
  assert.is(opts({}).string('corpus', 'corpus'), 'corpus');
  assert.is(opts({ corpus: 'c2' }).string('corpus', 'corpus'), 'c2');
  assert.is(opts({ model: '' }).string('model'), '');
  throwsCode(() => opts({ model: '' }).string('model', undefined, { nonEmpty: true }), 'BAD_USAGE', /^--model must not be empty/);
  throwsCode(() => opts({ model: true }).string('model'), 'BAD_USAGE', /^--model needs a value/);
  assert.is(opts({ out: 'd' }).required('out', 'x needs --out <dir>'), 'd');
  throwsCode(() => opts({}).required('out', 'x needs --out <dir>'), 'BAD_USAGE', /^x needs --out <dir> \(see/);
  throwsCode(() => opts({ out: '' }).required('out', 'x needs --out <dir>'), 'BAD_USAGE', /--out/);
  assert.is(opts({ fresh: true }).flag('fresh'), true);
  assert.is(opts({}).flag('fresh'), false);
});

test('lists: members, intList, numList', () => {
  const known = ['lime', 'kernelshap', 'saliency'] as const;
  assert.equal(opts({}).members('methods', known, ['lime'], 'method'), ['lime']);
  assert.equal(opts({ methods: ' lime , saliency,' }).members('methods', known, ['lime'], 'method'), ['lime', 'saliency']);
  throwsCode(() => opts({ methods: 'lime,gradcam' }).members('methods', known, [], 'method'), 'BAD_USAGE', /^--methods: unknown method 'gradcam' \(known: lime, kernelshap, saliency\)/);
  throwsCode(() => opts({ methods: 'lime,lime' }).members('methods', known, [], 'method'), 'BAD_USAGE', /^--methods has repeated values: 'lime' is listed twice/);
  throwsCode(() => opts({ methods: ',' }).members('methods', known, [], 'method'), 'BAD_USAGE', /^--methods must be a comma-separated list, got ','/);
  throwsCode(() => opts({ methods: true }).list('methods'), 'BAD_USAGE', /--methods .* got no value/);

  assert.equal(opts({}).intList('ks', { def: [1, 3], min: 1, max: 20 }), [1, 3]);
  assert.equal(opts({ samples: '1_000,70_000' }).intList('samples', { def: [], min: 1 }), [1000, 70000]);
  throwsCode(() => opts({ ks: '1,0' }).intList('ks', { def: [], min: 1, max: 20 }), 'BAD_USAGE', /^--ks: each value must be an integer in \[1, 20\], got '0'/);
  throwsCode(() => opts({ ks: '1,2.5' }).intList('ks', { def: [], min: 1, max: 20 }), 'BAD_USAGE', /--ks: .* got '2\.5'/);
  throwsCode(() => opts({ ks: '1,x' }).intList('ks', { def: [], min: 1 }), 'BAD_USAGE', /--ks: each value must be an integer ≥ 1, got 'x'/);
  throwsCode(() => opts({ ks: '3,3' }).intList('ks', { def: [], min: 1, max: 20 }), 'BAD_USAGE', /--ks has repeated values: '3'/);

  assert.equal(opts({ fractions: '0.2, 0.5' }).numList('fractions', { def: [], min: 0, max: 1, exclusiveMin: true, exclusiveMax: true }), [0.2, 0.5]);
  assert.equal(opts({}).numList('fractions', { def: [0.2] }), [0.2]);
  throwsCode(() => opts({ fractions: '0.2,1' }).numList('fractions', { min: 0, max: 1, exclusiveMax: true }), 'BAD_USAGE', /^--fractions: each value must be a number in \[0, 1\); item 2 is '1'/);
  throwsCode(() => opts({ fractions: '0.2,,0.5' }).numList('fractions', { min: 0 }), 'BAD_USAGE', /--fractions: .* item 2 is ''/);
  throwsCode(() => opts({ fractions: 'NaN' }).numList('fractions'), 'BAD_USAGE', /--fractions: each value must be a number; item 1 is 'NaN'/);
});

test('takeKeyValues: the repeatable --stems name=file option, before parseArgs', () => {
  const r = takeKeyValues('separate', ['mix.wav', '--stems', 'v=a.wav', '--stems=d=b c.wav', '--out', 'o'], 'stems');
  assert.equal(r.pairs, { v: 'a.wav', d: 'b c.wav' });
  assert.equal(r.rest, ['mix.wav', '--out', 'o']);
  throwsCode(() => takeKeyValues('separate', ['--stems'], 'stems'), 'BAD_USAGE', /^--stems needs name=file\.wav \(see `earshot separate --help`\)/);
  throwsCode(() => takeKeyValues('separate', ['--stems', 'vocals'], 'stems'), 'BAD_USAGE', /--stems must be name=file\.wav, got 'vocals'/);
  throwsCode(() => takeKeyValues('separate', ['--stems', 'v='], 'stems'), 'BAD_USAGE', /got 'v='/);
  throwsCode(() => takeKeyValues('separate', ['--stems', 'v=a', '--stems', 'v=b'], 'stems'), 'BAD_USAGE', /--stems: 'v' is given twice/);
});

test('shellQuote: plain words as they are, the rest single-quoted for a POSIX shell', () => {
  assert.is(shellQuote('results/slime-1.wav'), 'results/slime-1.wav');
  assert.is(shellQuote('a b'), "'a b'");
  assert.is(shellQuote("it's"), `'it'\\''s'`);
});

test.run();
