// The SIREN layer as a serializable TensorFlow.js layer: y = sin(omega * (x W + b)), omega multiplying
// the bias too (vsitzmann/siren issue #57), kernel W stored [fan_in, fan_out] as strainer's weights are.
// `omega` and `firstLayer` are in its saved config, so a saved model.json says exactly what it computes
// and src/tfjs/convert.ts can rebuild it. Registered with tf.serialization once, here, beside the class.
import * as tf from '@tensorflow/tfjs';

export interface SineLayerArgs {
  units: number;
  /** SIREN frequency omega_0 of this layer: 30 in SIREN and STRAINER (shared/REFERENCE.md); a first
   *  layer takes the model's first-layer omega0 (3000 for audio, vsitzmann/siren explore_siren.ipynb). */
  omega: number;
  /** Selects the first-layer weight init (see `sirenBounds`). */
  firstLayer: boolean;
  name?: string;
  /** Only for a model's first layer when built without an explicit tf.input. */
  batchInputShape?: (number | null)[];
}

/** SIREN init bounds, the same as src/model/inr.ts paramSpecs: weights U(-1/fan_in, 1/fan_in) in the
 *  first layer (whatever its omega), U(-sqrt(6/fan_in)/omega, +) later (vsitzmann/siren issue #4: the
 *  code, not the paper text); biases U(-1/sqrt(fan_in), +) (PyTorch nn.Linear default, never
 *  overridden by SIREN). */
export function sirenBounds(fanIn: number, omega: number, firstLayer: boolean): { weight: number; bias: number } {
  return { weight: firstLayer ? 1 / fanIn : Math.sqrt(6 / fanIn) / omega, bias: 1 / Math.sqrt(fanIn) };
}

/**
 * x W + b with an explicit backward pass: dX = dY transpose(W), dW = transpose(X) dY, db = sum(dY).
 * Same math as tfjs's own matMul gradient, which uses matMul's transposeA/transposeB flags instead;
 * tfjs-backend-wasm 4.22 runs those 15-50x slower than a Transpose plus a plain MatMul (measured:
 * [4096,256]x[256,256] 49 ms plain, 820 ms with transposeB; [256,4096]x[4096,256] 1315 ms with
 * transposeA, 146 ms via an explicit transpose), which made them most of a wasm training step.
 */
const affine = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, w, b, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
  save([x, w]);
  return {
    value: tf.add(tf.matMul(x, w), b),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
      const d = dy as tf.Tensor2D;
      return [tf.matMul(d, tf.transpose(ws)), tf.matMul(tf.transpose(xs), d), tf.sum(d, 0)];
    },
  };
});

export class SineLayer extends tf.layers.Layer {
  /** The name tfjs writes as this layer's class_name (prefixed with the registration package). */
  static className = 'SineLayer';
  readonly units: number;
  readonly omega: number;
  readonly firstLayer: boolean;
  private kernel: tf.LayerVariable | null = null;
  private bias: tf.LayerVariable | null = null;

  constructor(args: SineLayerArgs) {
    super(args);
    if (!(Number.isInteger(args.units) && args.units > 0))
      throw new Error(`SineLayer: units must be a positive integer, got ${args.units}`);
    if (!(Number.isFinite(args.omega) && args.omega > 0))
      throw new Error(`SineLayer: omega must be positive, got ${args.omega}`);
    this.units = args.units;
    this.omega = args.omega;
    this.firstLayer = Boolean(args.firstLayer);
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const fanIn = shape[shape.length - 1];
    if (fanIn == null) throw new Error(`SineLayer '${this.name}': the last input dimension must be known`);
    const b = sirenBounds(fanIn, this.omega, this.firstLayer);
    this.kernel = this.addWeight(
      'kernel',
      [fanIn, this.units],
      'float32',
      tf.initializers.randomUniform({ minval: -b.weight, maxval: b.weight }),
    );
    this.bias = this.addWeight(
      'bias',
      [this.units],
      'float32',
      tf.initializers.randomUniform({ minval: -b.bias, maxval: b.bias }),
    );
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return [...shape.slice(0, -1), this.units];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      if (!this.kernel || !this.bias) throw new Error(`SineLayer '${this.name}' called before build`);
      return tf.sin(tf.mul(affine(x, this.kernel.read(), this.bias.read()), this.omega));
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), units: this.units, omega: this.omega, firstLayer: this.firstLayer };
  }
}

/** Registration package: saved models name the class `Strainer>SineLayer`. */
export const SINE_LAYER_PACKAGE = 'Strainer';
tf.serialization.registerClass(SineLayer, SINE_LAYER_PACKAGE);

/** class_name values a model.json may use for this layer (with or without the package prefix). */
export const SINE_LAYER_CLASS_NAMES: readonly string[] = [
  `${SINE_LAYER_PACKAGE}>${SineLayer.className}`,
  SineLayer.className,
];
