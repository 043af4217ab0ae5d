import { registerEnumType } from 'type-graphql';

/** Mirrors the port's `AssetType`; the values are the same strings. */
export enum AssetType {
  IMAGE = 'IMAGE',
  VIDEO = 'VIDEO',
  AUDIO = 'AUDIO',
}

registerEnumType(AssetType, {
  name: 'AssetType',
  description: 'The kind of media an asset holds.',
  valuesConfig: {
    IMAGE: { description: 'An image: jpeg, png, webp, bmp, tiff, gif, heic or heif, under 30 MB.' },
    VIDEO: { description: 'A video: mp4 or mov, 24-60 fps.' },
    AUDIO: { description: 'Audio: wav or mp3.' },
  },
});
