import { ObjectType } from 'type-graphql';
import { AssetGroup } from './asset-group.type.js';
import { PageOf } from './page.type.js';

@ObjectType('GroupPage', { description: 'One page of groups, newest first.' })
export class GroupPage extends PageOf(AssetGroup, 'The groups on this page.') {}
