"""The probe's classifier: multinomial logistic regression, full-batch L-BFGS.

One fixed recipe for every arm and task, so the probe measures the
features and not the tuning: standardize each feature with the training
mean and standard deviation, minimize the mean cross-entropy plus
`l2 / 2 * ||W||^2` (the bias is not penalized) with full-batch L-BFGS (10
correction pairs, Armijo backtracking) in float64 until the gradient's
largest entry is below `tolerance` or `max_iterations` have run. The
problem is convex, so the solution does not depend on the seed beyond
numerical tolerance; the seed only sets the starting point.

The logits `z @ W` are computed with single-threaded BLAS
(`one_blas_thread`): the matrices are thin (examples x features x
classes), and on a 2-core machine busy with TensorFlow's thread pools,
spinning BLAS threads made that product about 4x slower. On one thread
it came out bit-for-bit the same on every shape tried (a test checks
it). The gradient `z.T @ P`, a sum over the examples, did not for some
shapes: it keeps the default threads, so every probe number stays
exactly what it was.
"""

import contextlib

import numpy as np

from keras_objectives.api_export import keras_objectives_export
from keras_objectives.utils import check_int
from keras_objectives.utils import invalid


def one_blas_thread():
    """A context that runs NumPy's BLAS on one thread (if it can).

    Needs `threadpoolctl`; without it the context does nothing.

    >>> with one_blas_thread():
    ...     float((np.ones((2, 2)) @ np.ones(2))[0])
    2.0
    """
    if not _CONTROLLER:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:  # pragma: no cover - a declared dependency
            return contextlib.nullcontext()
        _CONTROLLER.append(ThreadpoolController())  # Scans libraries once.
    return _CONTROLLER[0].limit(limits=1, user_api="blas")


_CONTROLLER = []


def _row_max(x):
    """`x.max(1, keepdims=True)` of a thin `[N, k]` array, column by
    column (a maximum is exact whatever the order, and this is faster)."""
    out = x[:, :1].copy()
    for j in range(1, x.shape[1]):
        np.maximum(out, x[:, j:j + 1], out=out)
    return out


def _lbfgs(fun, x, max_iterations, tolerance, memory=10):
    """Minimize `fun(x) -> (value, gradient)`; return `(x, iterations)`."""
    f, g = fun(x)
    history = []
    iterations = 0
    while iterations < max_iterations:
        if np.max(np.abs(g)) < tolerance:
            break
        iterations += 1
        q = g.copy()
        alphas = []
        for s, y, rho in reversed(history):
            a = rho * (s @ q)
            q -= a * y
            alphas.append(a)
        if history:
            s, y, _ = history[-1]
            q *= (s @ y) / (y @ y)
        else:
            q /= max(1.0, np.linalg.norm(g))
        for (s, y, rho), a in zip(history, reversed(alphas),
                                  strict=True):
            q += s * (a - rho * (y @ q))
        direction = -q
        slope = g @ direction
        if slope >= 0:
            direction, slope, history = -g, -(g @ g), []
        step = 1.0
        while True:
            x_new = x + step * direction
            f_new, g_new = fun(x_new)
            if f_new <= f + 1e-4 * step * slope or step < 1e-12:
                break
            step *= 0.5
        s, y = x_new - x, g_new - g
        if s @ y > 1e-12:
            history.append((s, y, 1.0 / (s @ y)))
            history = history[-memory:]
        done = abs(f - f_new) <= 1e-12 * max(1.0, abs(f))
        x, f, g = x_new, f_new, g_new
        if done:
            break
    return x, iterations


@keras_objectives_export("keras_objectives.evaluation.LogisticRegression")
class LogisticRegression:
    """Multinomial logistic regression on standardized features.

    Args:
        l2: float >= 0, the L2 penalty on the weights (per mean example).
        max_iterations: int, L-BFGS iterations at most.
        tolerance: float, stop when the largest gradient entry is below it.
        seed: int, the starting point (normal, scale 0.01).
        class_weight: `None` (every example counts once) or `"balanced"`
            (each class weighs the same in total: example weight
            `N / (K * count[class])`), so that a rare class is predicted at
            all when the features are weak.

    Examples:

    >>> x = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> probe = LogisticRegression().fit(x, [0, 0, 1, 1])
    >>> probe.predict(np.array([[0.2], [2.8]])).tolist()
    [0, 1]
    """

    def __init__(self, l2=1e-3, max_iterations=500, tolerance=1e-6,
                 seed=0, class_weight=None):
        if not float(l2) >= 0.0:
            raise invalid("l2", l2, "a float >= 0")
        self.l2 = float(l2)
        self.max_iterations = check_int("max_iterations", max_iterations,
                                        minimum=1)
        self.tolerance = float(tolerance)
        self.seed = check_int("seed", seed, minimum=0)
        if class_weight not in (None, "balanced"):
            raise invalid("class_weight", class_weight,
                          'None or "balanced"')
        self.class_weight = class_weight

    def fit(self, x, y, num_classes=None):
        """Fit on features `x` `[N, d]` and int labels `y` `[N]`."""
        x = np.asarray(x, np.float64)
        y = np.asarray(y, np.int64)
        if x.ndim != 2 or len(x) != len(y) or len(x) == 0:
            raise invalid("x", x.shape, f"a non-empty [N, d] array with N = "
                          f"len(y) = {len(y)}")
        k = int(num_classes or y.max() + 1)
        if y.min() < 0 or y.max() >= k:
            raise invalid("y", sorted(set(y.tolist()))[:10],
                          f"int labels in [0, {k})")
        self.mean_ = x.mean(0)
        std = x.std(0)
        self.scale_ = np.where(std > 1e-12, std, 1.0)
        z = (x - self.mean_) / self.scale_
        n, d = z.shape
        rows = np.arange(n)
        weight = np.full(n, 1.0 / n)
        if self.class_weight == "balanced":
            counts = np.bincount(y, minlength=k).astype(np.float64)
            weight = 1.0 / (np.count_nonzero(counts) * counts[y])

        def fun(params):
            w, b = params[:d * k].reshape(d, k), params[d * k:]
            with one_blas_thread():  # The same numbers (module docstring).
                logits = z @ w
            logits += b
            logits -= _row_max(logits)
            p = np.exp(logits)
            total = p.sum(1)
            loss = weight @ (np.log(total) - logits[rows, y])
            loss += 0.5 * self.l2 * (w * w).sum()
            p /= total[:, None]
            p[rows, y] -= 1.0
            p *= weight[:, None]
            grad_w = z.T @ p + self.l2 * w
            return loss, np.concatenate([grad_w.ravel(), p.sum(0)])

        rng = np.random.default_rng(self.seed)
        start = np.concatenate([rng.normal(0, 0.01, d * k), np.zeros(k)])
        params, self.iterations_ = _lbfgs(fun, start, self.max_iterations,
                                          self.tolerance)
        self.coef_ = params[:d * k].reshape(d, k)
        self.intercept_ = params[d * k:]
        self.num_classes_ = k
        return self

    def decision_function(self, x):
        z = (np.asarray(x, np.float64) - self.mean_) / self.scale_
        return z @ self.coef_ + self.intercept_

    def predict_proba(self, x):
        logits = self.decision_function(x)
        logits -= logits.max(1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(1, keepdims=True)

    def predict(self, x):
        return np.argmax(self.decision_function(x), 1)

    def get_config(self):
        return {"l2": self.l2, "max_iterations": self.max_iterations,
                "tolerance": self.tolerance, "seed": self.seed,
                "class_weight": self.class_weight}
