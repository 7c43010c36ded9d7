/**
 * The suite runs on the Node.js major that Lambda runs (the `node` devDependency puts it first on
 * the PATH of npm scripts), so a test cannot pass on a Node that production does not use.
 */
import { describe, expect, it } from 'vitest';
import { RUNTIME } from '../../infra/service-function.ts';

describe('Node.js version', () => {
  it('is the major of the functions’ Lambda runtime', () => {
    const lambdaMajor = /^nodejs(\d+)\.x$/.exec(RUNTIME.name)?.[1];
    expect(lambdaMajor, RUNTIME.name).toBeDefined();
    expect(process.versions.node.split('.')[0], `tests run on Node ${process.version}; run them with npm (npm test), which uses node_modules/.bin/node`).toBe(lambdaMajor);
  });
});
