// Where the generated sidecar codec lives and the version of its generator, shared by the build step that writes it
// and the loader that checks it (without protobufjs).

/** Bumped whenever the generated code's shape or what it produces changes, so an older file is not used. */
export const CODEC_FORMAT = 1;

/** dist/xds/client/sidecar-codec.generated.js, beside the compiled loader. */
export const CODEC_FILE = new URL('./sidecar-codec.generated.js', import.meta.url);
