import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** This package's version, from its package.json (two levels above dist/src). */
export const PACKAGE_VERSION: string = (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;

/** The memcached release whose behaviour the node and the proxy match. */
export const MEMCACHED_VERSION = '1.6.18';

/**
 * What `version` and `stats` report: the memcached version first, because clients and tools read
 * its leading major.minor to choose a protocol (libmemcached's memcapable takes anything below
 * 1.6 for an old server), then this package's, in one token as memcached's own `1.6.18-...`
 * builds do.
 */
export const SERVER_VERSION = `${MEMCACHED_VERSION}-mhn.${PACKAGE_VERSION}`;
