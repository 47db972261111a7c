/** Query, projection, sort and aggregation over stored documents, evaluated by mingo with script operators disabled. */

import type { Document } from 'bson';
import { Aggregator, ProcessingMode, Query } from 'mingo';
import type { AnyObject, Options } from 'mingo/types';
import { MingoError } from 'mingo/util';
import { CommandError } from './errors.js';

/** Returns the documents of another collection in the same database, for `$lookup` and `$unionWith`. */
export type CollectionResolver = (name: string) => readonly Document[];

export interface FindSpec {
  filter: Document;
  projection: Document | undefined;
  sort: Document | undefined;
  skip: number;
  /** 0 means no limit. */
  limit: number;
}

/** Returns the matching documents, sorted, then skipped, then limited, then projected, as mongod orders them. */
export function findDocuments(documents: readonly Document[], spec: FindSpec, resolveCollection: CollectionResolver): Document[] {
  return translateMingoErrors(() => {
    const query = new Query<AnyObject>(spec.filter, mingoOptions(resolveCollection, ProcessingMode.CLONE_OFF));
    const cursor = query.find<Document>(documents as AnyObject[], spec.projection ?? {});
    if (spec.sort && Object.keys(spec.sort).length > 0) cursor.sort(spec.sort);
    if (spec.skip > 0) cursor.skip(spec.skip);
    if (spec.limit > 0) cursor.limit(spec.limit);
    return cursor.all();
  });
}

/** Returns a predicate for delete and count filters. Throws BadValue for an invalid filter. */
export function createMatcher(filter: Document): (document: Document) => boolean {
  const query = translateMingoErrors(() => new Query<AnyObject>(filter, mingoOptions(() => [], ProcessingMode.CLONE_OFF)));
  return (document) => translateMingoErrors(() => query.test(document));
}

/**
 * Runs an aggregation pipeline. Inputs are cloned first because stages such as `$addFields`
 * may modify the documents they receive, and the stored documents must not change.
 */
export function aggregateDocuments(documents: readonly Document[], pipeline: Document[], resolveCollection: CollectionResolver): Document[] {
  return translateMingoErrors(() => {
    const aggregator = new Aggregator(pipeline, mingoOptions(resolveCollection, ProcessingMode.CLONE_INPUT));
    return aggregator.run<Document>(documents as AnyObject[]);
  });
}

function mingoOptions(resolveCollection: CollectionResolver, processingMode: ProcessingMode): Partial<Options> {
  return {
    // The command handlers reject script operators before calling mingo, so this is a second barrier.
    scriptEnabled: false,
    processingMode,
    collectionResolver: (name) => [...resolveCollection(name)] as AnyObject[],
  };
}

/** Turns mingo's validation errors into BadValue, the code mongod uses for an invalid filter or stage. */
function translateMingoErrors<T>(run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof MingoError) throw new CommandError('BadValue', error.message);
    throw error;
  }
}
