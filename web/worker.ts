// The demo's Web Worker entry: the library's fit worker (src/web/worker.ts) runs the train loop here.
import '../src/web/worker.ts';
