import { Field, InputType } from 'type-graphql';
import { AssetType } from './asset-type.enum.js';

@InputType('NewAssetInput', { description: 'One file to register as an asset.' })
export class NewAssetInput {
  @Field({
    description:
      'A public, absolute http(s) URL the upstream downloads the file from (no data: or file: URLs).',
  })
  url!: string;

  @Field(() => AssetType, { description: 'The kind of media at the URL.' })
  type!: AssetType;

  @Field(() => String, { nullable: true, description: 'An optional remark: 1-64 characters.' })
  name?: string | null;
}
