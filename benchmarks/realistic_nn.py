"""t-SNE's KL divergence and multilayer-perceptron backprop, written the way a machine-learning library writes them.

Each builder takes a seeded generator and returns `(f, grad, chain_bug, args)`; `chain_bug` is the gradient
with one chain factor left out. The float32 variants compute f in float32 inside, as the library does for
float32 data; their gradient is the float64 derivative of the same smooth function. Data: 5 samples of 3
features; weights of scale 0.8, biases 0.3 (activations of order 1, ReLU inputs away from 0); t-SNE embeddings
of 6 points (40 in the large case) of scale 1.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.distance import pdist, squareform
from scipy.special import expit, xlogy

MACHINE_EPSILON = np.finfo(np.double).eps
DEAD_BIAS = -5.0  # below any of the hidden pre-activations' spread (scale ~2): a dead ReLU unit
DOF = 1.0  # t-SNE's degrees of freedom for a 2-d embedding (n_components - 1)


def _joint_probabilities(rng, n):
    P = rng.uniform(0.1, 1.0, size=(n, n))
    P = P + P.T
    np.fill_diagonal(P, 0)
    P = np.maximum(P / np.sum(P), MACHINE_EPSILON)
    return squareform(P, checks=False)


def _kl_divergence(params, P, n_samples, dtype, with_dist=True):
    X_embedded = params.reshape(n_samples, 2)
    if dtype is not None:  # float32 data: the library computes the embedding's distances in float32
        X_embedded = X_embedded.astype(dtype)
    dist = pdist(X_embedded, "sqeuclidean")
    if dtype is not None:
        dist = dist.astype(dtype)
    dist /= DOF
    dist += 1.0
    dist **= (DOF + 1.0) / -2.0
    Q = np.maximum(dist / (2.0 * np.sum(dist)), MACHINE_EPSILON)
    kl_divergence = 2.0 * np.dot(P, np.log(np.maximum(P, MACHINE_EPSILON) / Q))
    # gradient, as the library writes it (float64 here)
    PQd = squareform((P - Q) * dist) if with_dist else squareform(P - Q)  # the bug: no Student-t factor
    grad = np.ndarray((n_samples, 2), dtype=np.float64)
    for i in range(n_samples):
        grad[i] = np.dot(np.ravel(PQd[i], order="K"), X_embedded[i] - X_embedded)
    grad = grad.ravel()
    grad *= 2.0 * (DOF + 1.0) / DOF
    return kl_divergence, grad


def _tsne(dtype, n=6):
    def build(rng):
        P = _joint_probabilities(rng, n)

        def f(params):
            return _kl_divergence(params, P, n, dtype)[0]

        def gradient(params):
            return (_kl_divergence(np.asarray(params, dtype=np.float64), P, n, None)[1],)

        def chain_bug(params):
            return (_kl_divergence(np.asarray(params, dtype=np.float64), P, n, None, with_dist=False)[1],)

        return f, gradient, chain_bug, (rng.normal(scale=1.0, size=2 * n),)

    return build


def _forward(X, params, hidden, output):
    W1, b1, W2, b2 = params
    Z1 = hidden(X @ W1 + b1)
    return Z1, output(Z1 @ W2 + b2)


def _l2(alpha, n, W1, W2):
    return (0.5 * alpha) * (np.dot(W1.ravel(), W1.ravel()) + np.dot(W2.ravel(), W2.ravel())) / n


def _backprop(X, delta, Z1, W1, W2, alpha, hidden_derivative):
    """The library's backward pass: delta is d loss / d output pre-activation, times n_samples."""
    n = X.shape[0]
    W2_grad = (Z1.T @ delta + alpha * W2) / n
    b2_grad = np.mean(delta, 0)
    delta = delta @ W2.T
    hidden_derivative(delta, Z1)
    return (X.T @ delta + alpha * W1) / n, np.mean(delta, 0), W2_grad, b2_grad


def _relu_derivative(delta, Z):
    delta[Z == 0] = 0


def _tanh_derivative(delta, Z):
    delta *= 1 - Z**2


def _logistic_derivative(delta, Z):
    delta *= Z
    delta *= 1 - Z


def _no_derivative(delta, Z):
    """The missing chain factor: the hidden activation's derivative left out."""


def binary_log_loss(y_true, y_prob):
    eps = np.finfo(y_prob.dtype).eps
    y_prob = np.clip(y_prob, eps, 1 - eps)
    return -(xlogy(y_true, y_prob).sum() + xlogy(1 - y_true, 1 - y_prob).sum()) / y_prob.shape[0]


def log_loss(y_true, y_prob):
    eps = np.finfo(y_prob.dtype).eps
    y_prob = np.clip(y_prob, eps, 1 - eps)
    return -xlogy(y_true, y_prob).sum() / y_prob.shape[0]


def squared_loss(y_true, y_pred):
    return ((y_true - y_pred) ** 2).mean() / 2


def softmax(X):
    tmp = X - X.max(axis=1)[:, np.newaxis]
    tmp = np.exp(tmp)
    return tmp / tmp.sum(axis=1)[:, np.newaxis]


def _params(rng, n_in, n_hidden, n_out):
    return (rng.normal(scale=0.8, size=(n_in, n_hidden)), rng.normal(scale=0.3, size=n_hidden),
            rng.normal(scale=0.8, size=(n_hidden, n_out)), rng.normal(scale=0.3, size=n_out))


def _mlp(hidden, derivative, output, loss, targets, dtype=None, n_hidden=4, dead=False):
    """An MLP problem: f(W1, b1, W2, b2) = loss + L2; the output layer's delta is output - y for each pairing."""
    alpha = 1e-2  # the library's default L2 penalty is 1e-4; larger so the penalty's gradient is visible

    def build(rng):
        X = rng.normal(size=(5, 3))
        y = targets(rng)

        def f(*params):
            cast = params if dtype is None else [np.asarray(p).astype(dtype) for p in params]
            _, out = _forward(X if dtype is None else X.astype(dtype), cast, hidden, output)
            return loss(y, out) + _l2(alpha, X.shape[0], cast[0], cast[2])

        def grad_with(hidden_derivative):
            def gradient(*params):
                Z1, out = _forward(X, params, hidden, output)
                delta = (out - y) / (y.shape[1] if output is _identity else 1)
                return _backprop(X, delta, Z1, params[0], params[2], alpha, hidden_derivative)
            return gradient

        params = _params(rng, 3, n_hidden, y.shape[1])
        if dead:  # a unit that died in training: its input is negative on every sample, its bias' gradient is 0
            params[1][0] = DEAD_BIAS
        return f, grad_with(derivative), grad_with(_no_derivative), params

    return build


def _identity(z):
    return z


def _relu(z):
    return np.maximum(z, 0)


def _binary(rng):
    return rng.integers(0, 2, size=(5, 1)).astype(np.float64)


def _one_hot(rng):
    return np.eye(3)[rng.integers(0, 3, size=5)]


def _regression(rng):
    return rng.normal(size=(5, 1))


BUILDERS = {
    "tsne_kl_divergence": _tsne(None),
    "tsne_kl_divergence_float32": _tsne(np.float32),
    # 40 points, 80 coordinates: above 64 elements, auto mode's fallback is the fast mode's projections
    "tsne_kl_divergence_40_points": _tsne(None, n=40),
    "mlp_relu_squared_loss": _mlp(_relu, _relu_derivative, _identity, squared_loss, _regression),
    # 16 hidden units, 81 parameters: above 64 elements, as above
    "mlp_relu_squared_loss_wide": _mlp(_relu, _relu_derivative, _identity, squared_loss, _regression, n_hidden=16),
    "mlp_relu_squared_loss_dead_unit": _mlp(_relu, _relu_derivative, _identity, squared_loss, _regression,
                                            dead=True),
    "mlp_tanh_binary_log_loss": _mlp(np.tanh, _tanh_derivative, expit, binary_log_loss, _binary),
    "mlp_logistic_softmax_log_loss": _mlp(expit, _logistic_derivative, softmax, log_loss, _one_hot),
    "mlp_tanh_squared_loss_float32": _mlp(np.tanh, _tanh_derivative, _identity, squared_loss, _regression,
                                          dtype=np.float32),
}
# the same functions computed in float64 throughout: what the float32 cases' gradients differentiate
FLOAT64_TWINS = {
    "tsne_kl_divergence_float32": _tsne(None),
    "mlp_tanh_squared_loss_float32": _mlp(np.tanh, _tanh_derivative, _identity, squared_loss, _regression),
}
