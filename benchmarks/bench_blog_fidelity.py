"""The blog post's Keras networks: the estimator at ``settings="blog"`` vs a bare Keras script.

Question: does ``build_model(name, settings="blog")`` score what the blog
post's own code scores on the same data? Both sides get the same drug-aware
hold-out split of ``make_moa`` data (the first of 5 folds of
``DrugMultilabelStratifiedKFold``: a fifth of the drugs held out), the same
feature preset (fitted on the treated training rows), the same network, loss,
optimiser, epochs and batch size, and predict 0 for control rows. The bare
side is the blog post's loop written with plain Keras: ``keras.Model.fit`` on
the treated rows, no validation split, the output bias left at Keras' zero
(as the zoo's blog estimators start it since this comparison found that
their prevalence start cost 5 % and 44 %), probabilities clipped as the
estimator clips them.

With ``--folds K`` both sides also run the blog post's fold-averaged protocol
(``sklearn-moa train --folds K``): K models, one per drug-aware fold of the
training rows, whose predictions on the hold-out are averaged.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_blog_fidelity.py                    # full size, blog epochs
    OMP_NUM_THREADS=1 python benchmarks/bench_blog_fidelity.py --rows 3000 --epochs 2   # smoke run

``--sides estimator,bare,bare-bias`` adds the bare script with the output
biases started where the estimator's ``output_bias="prevalence"`` starts them
(to tell that difference from any other), and ``--estimator-params
"output_bias='zeros'"`` sets parameters on the zoo's blog estimator.

``--epochs`` overrides the blog's epochs on both sides (a reduced run: its
figures say nothing about the blog's numbers, only whether the two sides
agree). It prints, per model, the hold-out log loss of each side and their
ratio.
"""

import argparse
import functools
import os
import sys
import time

import numpy as np
from _params import literal_params

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

#: The estimator clips its probabilities to [PROBA_EPS, 1 - PROBA_EPS]; so does the bare side.
PROBA_EPS = 1e-7


def _bare_two_head(keras, n_head1, n_head2, n_outputs):
    """The blog post's ``nn_model()``, layer for layer, in plain Keras 3."""
    from keras import initializers as init
    from keras import layers

    input1 = keras.Input((n_head1,))
    input2 = keras.Input((n_head2,))
    x = layers.BatchNormalization()(input1)
    x = layers.Dropout(0.1)(x)
    x = layers.Dense(512, kernel_initializer=init.GlorotNormal(), activation="elu")(x)
    x = layers.BatchNormalization()(x)
    x = layers.Dense(256, kernel_initializer=init.GlorotNormal(), activation="elu")(x)
    y = layers.Concatenate()([x, input2])
    y = layers.BatchNormalization()(y)
    y = layers.Dropout(0.3)(y)
    y = layers.Dense(512, kernel_initializer=init.GlorotNormal(), activation="relu")(y)
    for units in (512, 256, 256):
        y = layers.BatchNormalization()(y)
        y = layers.Dense(units, kernel_initializer=init.GlorotNormal(), activation="relu")(y)
    z = layers.Average()([x, y])
    z = layers.BatchNormalization()(z)
    z = layers.Dense(256, kernel_initializer=init.LecunNormal(), activation="relu")(z)
    z = layers.BatchNormalization()(z)
    z = layers.Dense(n_outputs, kernel_initializer=init.LecunNormal(), activation="relu")(z)
    z = layers.BatchNormalization()(z)
    output = layers.Dense(n_outputs, activation="sigmoid")(z)
    model = keras.Model([input1, input2], output)
    # Keras 2's Adam(lr=1e-4, decay=1e-4) is an inverse-time decay per step.
    schedule = keras.optimizers.schedules.InverseTimeDecay(1e-4, decay_steps=1, decay_rate=1e-4)
    model.compile(optimizer=keras.optimizers.Adam(schedule),
                  loss=keras.losses.BinaryCrossentropy(label_smoothing=0.001))
    return model


def _bare_cnn1d(keras, n_features, n_outputs):
    """The blog post's 1D CNN in plain Keras 3."""
    from keras import initializers as init
    from keras import layers

    inputs = keras.Input((n_features, 1))
    x = inputs
    for filters in (32, 16, 8):
        x = layers.Conv1D(filters, 3, activation="relu", kernel_initializer=init.GlorotNormal())(x)
    x = layers.Flatten()(x)
    x = layers.Dense(2048, activation="relu")(x)
    x = layers.Dense(1048, activation="relu")(x)
    outputs = layers.Dense(n_outputs, activation="sigmoid")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(1e-4), loss=keras.losses.BinaryCrossentropy())
    return model


#: name -> (preset, epochs, batch size, network builder, how X becomes the network's inputs)
BLOG = {
    "two_head_nn": ("two_head", 50, 128,
                    lambda keras, X, n: _bare_two_head(keras, 60, X.shape[1] - 60, n),
                    lambda X: [X[:, :60], X[:, 60:]]),
    "cnn1d": ("cnn1d", 20, 300,
              lambda keras, X, n: _bare_cnn1d(keras, X.shape[1], n),
              lambda X: X[:, :, None]),
}


def _bare_fit_predict(name, features, targets, train, test, epochs, seed, prevalence_bias=False):
    """The bare script: preset on the treated training rows, plain Keras fit, 0 for controls.

    ``prevalence_bias``: start the output biases at the logits of the training
    prevalences, as the estimator's ``output_bias="prevalence"`` does (the
    diagnosis of the difference the first comparison found).
    """
    import keras

    from sklearn_moa.preprocessing import make_moa_features

    preset, blog_epochs, batch_size, build, inputs = BLOG[name]
    epochs = blog_epochs if epochs is None else epochs
    treated = (features["cp_type"] == "trt_cp").to_numpy()
    fit_rows = train[treated[train]]
    pipe = make_moa_features(preset, random_state=seed)
    X_train = pipe.fit_transform(features.iloc[fit_rows]).astype(np.float32)
    Y_train = targets[fit_rows].astype(np.float32)
    keras.utils.set_random_seed(seed)
    model = build(keras, X_train, Y_train.shape[1])
    if prevalence_bias:
        from sklearn_moa.utils._prevalence import prevalence_logits

        model.layers[-1].bias.assign(prevalence_logits(Y_train).astype(np.float32))
    model.fit(inputs(X_train), Y_train, epochs=epochs, batch_size=batch_size, shuffle=True, verbose=0)
    proba = np.full((len(test), targets.shape[1]), PROBA_EPS)
    test_treated = treated[test]
    X_test = pipe.transform(features.iloc[test[test_treated]]).astype(np.float32)
    proba[test_treated] = np.clip(model.predict(inputs(X_test), verbose=0), PROBA_EPS, 1 - PROBA_EPS)
    return proba


def _estimator_fit_predict(name, features, targets, train, test, epochs, seed, params=None):
    from sklearn_moa.model_zoo import build_model

    model = build_model(name, settings="blog", random_state=seed)
    model.estimator.steps[-1][1].set_params(**(params or {}))
    if epochs is not None:
        model.estimator.steps[-1][1].set_params(epochs=epochs)
    model.fit(features.iloc[train], targets[train])
    return model.predict_proba(features.iloc[test])


def _fold_averaged(fit_predict, name, data, train, test, epochs, folds, seed):
    """The blog's protocol: one model per drug-aware fold of ``train``, predictions averaged."""
    from sklearn_moa.model_selection import DrugMultilabelStratifiedKFold

    splitter = DrugMultilabelStratifiedKFold(folds, random_state=seed)
    Y = data.targets.to_numpy()
    probas = [
        fit_predict(name, data.features, Y, train[inner], test, epochs, seed + k)
        for k, (inner, _) in enumerate(splitter.split(data.features.iloc[train], Y[train],
                                                     data.drugs.iloc[train]))
    ]
    return np.mean(probas, axis=0)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="two_head_nn,cnn1d")
    parser.add_argument("--rows", type=int, default=23814, help="make_moa rows (real data: 23,814)")
    parser.add_argument("--epochs", type=int, default=None,
                        help="override the blog's epochs on both sides (a reduced run)")
    parser.add_argument("--folds", type=int, default=None,
                        help="also run the fold-averaged protocol with this many folds")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sides", default="estimator,bare",
                        help="which fits to run, of: estimator, bare, bare-bias (the bare script "
                             "with the output biases started at the training prevalences' logits, "
                             "as the estimator's output_bias='prevalence' does; single fits only)")
    parser.add_argument("--estimator-params", default="",
                        help="parameters set on the zoo's blog estimator, e.g. output_bias='zeros' "
                             "(comma-separated key=value, values Python literals)")
    args = parser.parse_args(argv)

    import keras

    from sklearn_moa.datasets import make_moa
    from sklearn_moa.metrics import columnwise_log_loss, mean_columnwise_log_loss
    from sklearn_moa.model_selection import DrugMultilabelStratifiedKFold

    data = make_moa(args.rows, n_test_samples=0, random_state=args.seed)
    Y = data.targets.to_numpy()
    train, test = next(DrugMultilabelStratifiedKFold(5, random_state=args.seed).split(
        data.features, Y, data.drugs))
    print(f"make_moa({args.rows}, random_state={args.seed}): {len(train)} training rows, "
          f"{len(test)} held-out rows (a fifth of the drugs); Keras {keras.__version__} on "
          f"{keras.backend.backend()}; "
          + ("blog epochs" if args.epochs is None else f"REDUCED RUN: {args.epochs} epochs"))
    prior = np.clip(np.tile(Y[train].mean(axis=0), (len(test), 1)), PROBA_EPS, 1 - PROBA_EPS)
    # The targets without a positive in the training rows: the estimator predicts
    # them as a constant, the bare network learns an output for them.
    unseen = Y[train].sum(axis=0) == 0
    print(f"prior (training prevalence): {mean_columnwise_log_loss(Y[test], prior):.5f}")
    print(f"{'model':<13}{'protocol':<16}{'estimator':>10}{'bare':>10}{'ratio':>8}"
          f"{'est. s':>9}{'bare s':>9}{'est. CPU s':>12}{'bare CPU s':>12}")
    sides = args.sides.split(",")
    unknown = set(sides) - {"estimator", "bare", "bare-bias"}
    if unknown:
        parser.error(f"unknown sides {sorted(unknown)}; choose from estimator, bare, bare-bias")
    params = literal_params(filter(None, args.estimator_params.split(",")), "--estimator-params")
    fits = {
        "estimator": functools.partial(_estimator_fit_predict, params=params),
        "bare": _bare_fit_predict,
        "bare-bias": functools.partial(_bare_fit_predict, prevalence_bias=True),
    }
    if params:
        print(f"estimator: the zoo's blog settings with {params}")
    for name in args.models.split(","):
        protocols = [("single fit", None)] + ([(f"{args.folds}-fold avg", args.folds)]
                                              if args.folds else [])
        for label, folds in protocols:
            losses, seconds, cpu_seconds = {}, {}, {}
            for side in sides:
                if side == "bare-bias" and folds is not None:
                    continue
                start, cpu = time.perf_counter(), time.process_time()
                if folds is None:
                    proba = fits[side](name, data.features, Y, train, test, args.epochs, args.seed)
                else:
                    proba = _fold_averaged(fits[side], name, data, train, test, args.epochs,
                                           folds, args.seed)
                seconds[side] = time.perf_counter() - start
                cpu_seconds[side] = time.process_time() - cpu
                per_target = columnwise_log_loss(Y[test], proba)
                losses[side] = float(np.mean(per_target))  # the LISH-MoA metric
                unseen_part = per_target[unseen].sum() / Y.shape[1]
                print(f"  {name} {label}, {side}: {losses[side]:.5f} "
                      f"({seconds[side]:.0f} s, {cpu_seconds[side]:.0f} CPU s); the "
                      f"{unseen.sum()} targets without a training positive add {unseen_part:.5f}, "
                      f"mean prediction {proba[:, unseen].mean() if unseen.any() else 0:.2e}",
                      flush=True)
            if "estimator" in losses and "bare" in losses:
                print(f"{name:<13}{label:<16}{losses['estimator']:>10.5f}{losses['bare']:>10.5f}"
                      f"{losses['estimator'] / losses['bare']:>8.3f}"
                      f"{seconds['estimator']:>9.0f}{seconds['bare']:>9.0f}"
                      f"{cpu_seconds['estimator']:>12.0f}{cpu_seconds['bare']:>12.0f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
