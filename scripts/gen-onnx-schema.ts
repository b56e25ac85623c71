// Regenerates src/export/onnx-schema.json (protobufjs JSON descriptor) from src/export/onnx.proto, so
// Node and the browser load the same schema without parsing .proto text at run time.
import { readFileSync, writeFileSync } from 'node:fs';
import protobuf from 'protobufjs';

const here = new URL('../src/export/', import.meta.url);
const root = protobuf.parse(readFileSync(new URL('onnx.proto', here), 'utf8'), { keepCase: true }).root;
writeFileSync(new URL('onnx-schema.json', here), JSON.stringify(root.toJSON(), null, 1) + '\n');
console.log('wrote src/export/onnx-schema.json');
