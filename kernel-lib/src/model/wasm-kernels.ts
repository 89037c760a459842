/**
 * Copy-free Identity and same-type Cast for the tfjs wasm backend.
 *
 * tfjs-backend-wasm 4.22 copies the whole tensor for Identity (and for a Cast to the same dtype).
 * The engine calls Identity for every tensor a custom gradient saves (tf.customGrad's `save` keeps
 * a clone), so our model copied every layer input and weight once per step: ~300 ms of a 1.2 s
 * training step (config a, measured with --cpu-prof). tfjs tensors are immutable (a Variable's
 * assign switches to new data; no kernel writes into its inputs), so an alias with a reference
 * count is as good as a copy. That is what wasm's own Reshape does, and the cpu backend's Identity.
 */
import * as tf from "@tensorflow/tfjs";

interface RefCounting {
  incRef(dataId: object): void;
}

let installed = false;

/** Replaces wasm's Identity and Cast kernels once (after the wasm backend is registered). */
export function installCopyFreeIdentity(): boolean {
  if (installed) return true;
  const identity = tf.getKernel("Identity", "wasm");
  const cast = tf.getKernel("Cast", "wasm");
  if (!identity || !cast) return false;
  const alias = (x: tf.TensorInfo, backend: unknown): tf.TensorInfo => {
    (backend as RefCounting).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
  tf.unregisterKernel("Identity", "wasm");
  tf.registerKernel({
    kernelName: "Identity", backendName: "wasm", setupFunc: identity.setupFunc,
    kernelFunc: (args) => {
      const x = (args.inputs as { x: tf.TensorInfo }).x;
      return x.dtype === "string" ? identity.kernelFunc(args) : alias(x, args.backend);
    },
  });
  tf.unregisterKernel("Cast", "wasm");
  tf.registerKernel({
    kernelName: "Cast", backendName: "wasm", setupFunc: cast.setupFunc,
    kernelFunc: (args) => {
      const x = (args.inputs as { x: tf.TensorInfo }).x;
      return (args.attrs as { dtype?: string }).dtype === x.dtype ? alias(x, args.backend) : cast.kernelFunc(args);
    },
  });
  installed = true;
  return true;
}
