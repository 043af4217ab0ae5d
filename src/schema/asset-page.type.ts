import { ObjectType } from 'type-graphql';
import { Asset } from './asset.type.js';
import { PageOf } from './page.type.js';

@ObjectType('AssetPage', { description: 'One page of assets, newest first.' })
export class AssetPage extends PageOf(Asset, 'The assets on this page.') {}
