import { Field, ObjectType } from 'type-graphql';
import { AddAssetFailure } from './add-asset-failure.type.js';
import { Asset } from './asset.type.js';

@ObjectType('AddAssetsPayload', {
  description:
    'What `addAssets` did, item by item: one failed item never hides the others’ results.',
})
export class AddAssetsPayload {
  @Field(() => [Asset], {
    description:
      'The created assets, in the order of the items that succeeded (their indexes are the ones not listed in `failures`). They start PROCESSING.',
  })
  assets!: Asset[];

  @Field(() => [AddAssetFailure], { description: 'The items that were not created.' })
  failures!: AddAssetFailure[];
}
