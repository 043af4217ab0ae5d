import { ArgsType, Field, Int } from 'type-graphql';

/** The paging arguments every list field takes. `null` (sent explicitly) means the default. */
@ArgsType()
export class PageArgs {
  @Field(() => Int, { nullable: true, defaultValue: 1, description: 'The page number, from 1.' })
  page!: number | null;

  @Field(() => Int, { nullable: true, defaultValue: 10, description: 'Items per page, 1-100.' })
  pageSize!: number | null;
}
