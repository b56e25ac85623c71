# The same SIREN train step as strainer's (scripts/bench.ts) under JAX/XLA on the CPU, for comparison:
# 6 linear layers of width 256, sin(omega * (x W + b)) with omega 30 on the 5 encoder layers, a linear
# decoder, MSE over the full 178x178 grid, torch.optim.Adam (betas 0.9/0.999, eps 1e-8, bias correction).
# Driven by scripts/bench.ts over stdin/stdout so its steps interleave with onnxruntime's in one run:
#   prints "ready <compile ms>", then for each line "step" runs one step and prints "<ms> <loss>"; "quit" ends.
#   python bench-jax.py RES WIDTH DEPTH OMEGA
import sys, time
import numpy as np
import jax, jax.numpy as jnp

res, width, depth, omega = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
B1, B2, EPS, LR = 0.9, 0.999, 1e-8, 1e-4  # torch.optim.Adam defaults; the paper's lr

def init(seed):
    # SIREN init (vsitzmann/siren): first layer U(-1/fan_in, 1/fan_in), later U(-sqrt(6/fan_in)/omega, +);
    # biases PyTorch's U(-1/sqrt(fan_in), +). Weights [fan_in, fan_out], as strainer stores them.
    r = np.random.default_rng(seed)
    ps = []
    for l in range(depth):
        fi = 2 if l == 0 else width
        fo = 1 if l == depth - 1 else width
        wb = 1 / fi if l == 0 else np.sqrt(6 / fi) / omega
        ps.append((r.uniform(-wb, wb, (fi, fo)).astype(np.float32), r.uniform(-1 / np.sqrt(fi), 1 / np.sqrt(fi), (fo,)).astype(np.float32)))
    return [tuple(jnp.asarray(a) for a in p) for p in ps]

def forward(ps, x):
    h = x
    for w, b in ps[:-1]:
        h = jnp.sin(omega * (h @ w + b))
    w, b = ps[-1]
    return h @ w + b

def loss_fn(ps, x, y):
    return jnp.mean((forward(ps, x) - y) ** 2)

def step(ps, m, v, t, x, y):
    loss, g = jax.value_and_grad(loss_fn)(ps, x, y)
    t = t + 1
    m = jax.tree_util.tree_map(lambda a, b: B1 * a + (1 - B1) * b, m, g)
    v = jax.tree_util.tree_map(lambda a, b: B2 * a + (1 - B2) * b * b, v, g)
    size = LR / (1 - B1 ** t)
    inv = 1 / jnp.sqrt(1 - B2 ** t)
    ps = jax.tree_util.tree_map(lambda p, a, b: p - size * a / (jnp.sqrt(b) * inv + EPS), ps, m, v)
    return loss, ps, m, v, t

lin = np.linspace(-1, 1, res, dtype=np.float32)
x = jnp.asarray(np.stack(np.meshgrid(lin, lin, indexing='ij'), -1).reshape(-1, 2))
y = jnp.full((res * res, 1), 0.5, jnp.float32)
ps = init(0)
m = jax.tree_util.tree_map(jnp.zeros_like, ps)
v = jax.tree_util.tree_map(jnp.zeros_like, ps)
t = jnp.float32(0)
jstep = jax.jit(step, donate_argnums=(0, 1, 2, 3))
t0 = time.perf_counter()
loss, ps, m, v, t = jstep(ps, m, v, t, x, y)
loss.block_until_ready()
print(f"ready {(time.perf_counter() - t0) * 1000:.0f} jax {jax.__version__} {jax.devices()[0].platform}", flush=True)
for line in sys.stdin:
    if line.strip() != 'step':
        break
    t0 = time.perf_counter()
    loss, ps, m, v, t = jstep(ps, m, v, t, x, y)
    lv = float(loss)  # waits for the step, as strainer's step waits for its loss
    print(f"{(time.perf_counter() - t0) * 1000:.3f} {lv:.6g}", flush=True)
