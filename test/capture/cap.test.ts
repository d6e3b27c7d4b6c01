// The cap loader's naming of link types and of its own failures (owner: live capture).
import { describe, expect, it } from 'vitest';
import { capUnavailable, linktypeFromCapName } from '../../src/capture/cap.js';

describe('linktypeFromCapName', () => {
  // LINKTYPE_* values from the tcpdump.org link-layer header types registry
  it.each([
    ['NULL', 0],
    ['ETHERNET', 1],
    ['RAW', 101],
    ['IEEE802_11_RADIO', 127],
    ['LINKTYPE_LINUX_SLL', 113],
    ['Unknown linktype 276', 276], // LINUX_SLL2
    ['Unknown linktype 239', 239], // NFLOG
    ['Unknown linktype 12', 101], // DLT_RAW on Linux
    ['Unknown linktype 19', 106], // DLT_ATM_CLIP
  ])('%s -> %i', (name, lt) => {
    expect(linktypeFromCapName(name)).toBe(lt);
  });
  it('refuses names it cannot read', () => {
    expect(linktypeFromCapName('what')).toBeNull();
  });
});

describe('capUnavailable', () => {
  // the first lines Node 20 prints for each way cap can fail to load
  it.each([
    ["Cannot find module 'cap'\nRequire stack:\n- /x/dist/capture/cap.js", /not installed.*apt-get install libpcap-dev && npm ci/],
    ["Cannot find module '../build/Release/cap.node'\nRequire stack:", /never built/],
    ['libpcap.so.0.8: cannot open shared object file: No such file or directory', /cannot load libpcap \(libpcap\.so\.0\.8 missing\)/],
    ["The module '/x/cap.node'\nwas compiled against a different Node.js version using\nNODE_MODULE_VERSION 108.", /another Node\.js version/],
  ])('%s', (msg, want) => {
    const e = capUnavailable(new Error(msg));
    expect(e.code).toBe('ERR_CAP_UNAVAILABLE');
    expect(e.message).toMatch(want);
    expect(e.message).toMatch(/apt-get install libpcap-dev && npm (run build:cap \(where netpulse is installed as a package: npm rebuild netpulse\)$|ci )/);
    expect(e.oneLine()).not.toContain('\n');
  });
});
