import { Field, Int, ObjectType, type ClassType } from 'type-graphql';

/**
 * The fields every page shares. Each concrete page (`GroupPage`, `AssetPage`) extends the class
 * this returns, in its own file.
 */
export function PageOf<TItem extends object>(
  itemClass: ClassType<TItem>,
  itemsDescription: string,
) {
  @ObjectType()
  abstract class Page {
    @Field(() => [itemClass], { description: itemsDescription })
    items!: TItem[];

    @Field(() => Int, {
      description:
        'How many items match, over all pages. When the upstream sends no count, a lower bound: ' +
        'the items so far, plus one while pages come back full (read on until a short page). ' +
        'With a `types` filter on assets, it counts every type (the upstream has no type filter).',
    })
    total!: number;

    @Field(() => Int, { description: 'This page’s number, from 1.' })
    page!: number;

    @Field(() => Int, { description: 'The page size asked for (the last page may hold fewer).' })
    pageSize!: number;

    @Field({ description: 'Whether a later page holds more items.' })
    hasNextPage!: boolean;
  }
  return Page;
}
