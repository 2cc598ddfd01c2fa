"""MG501 TF1 batch normalization without UPDATE_OPS, MG502 TF/Keras training flag constant or
missing."""

from __future__ import annotations

import ast
import re
from typing import Iterator

from modeguard.findings import Finding, Location
from modeguard.lint.astutil import call_name, dotted, keyword
from modeguard.lint.source import SourceFile

_BN = ("layers.batch_normalization", "contrib.layers.batch_norm", "slim.batch_norm")
_DROPOUT = ("layers.dropout",)


def _tf_name(name: str | None) -> bool:
    return bool(name) and (name.startswith("tensorflow.") or name.startswith("tf."))


def check(src: SourceFile) -> Iterator[Finding]:
    imports = src.imports
    bn_calls: list[ast.Call] = []
    train_ops: list[int] = []
    # a missing or constant flag matters only where the file also trains
    trains = any(t in src.source for t in (".minimize(", ".apply_gradients(", ".fit(",
                                           "GradientTape"))
    # module-level aliases of TF namespaces: layers = tf.contrib.layers, slim = tf.contrib.slim
    aliases = {t.id: qualified for n in src.tree.body if isinstance(n, ast.Assign)
               and isinstance(n.value, ast.Attribute)
               and _tf_name(qualified := imports.resolve(n.value) or "")
               for t in n.targets if isinstance(t, ast.Name)}
    for node in src.of(ast.Call):
        if isinstance(node.func, ast.Attribute) and node.func.attr in ("minimize",
                                                                      "apply_gradients"):
            train_ops.append(node.lineno)
        name = call_name(node, imports)
        if aliases:
            head, _, rest = (dotted(node.func) or "").partition(".")
            if head in aliases and rest:
                name = f"{aliases[head]}.{rest}"
        if _tf_name(name) and name.endswith(_BN):  # type: ignore[union-attr]
            bn_calls.append(node)
            if trains:
                yield from _training_flag(src, node, "batch normalization",
                                          "never updates (and never uses) batch statistics")
        elif _tf_name(name) and name.endswith(_DROPOUT) and trains:  # type: ignore[union-attr]
            yield from _training_flag(src, node, "dropout", "never drops")
        elif isinstance(node.func, ast.Call):  # keras: layers.Dropout(0.5)(x, training=True)
            inner = call_name(node.func, imports) or ""
            if inner.endswith(("layers.Dropout", "layers.BatchNormalization")) and \
                    "keras" in inner or inner in ("Dropout", "BatchNormalization"):
                flag = keyword(node, "training")
                if isinstance(flag, ast.Constant) and isinstance(flag.value, bool):
                    yield Finding("MG502",
                                  f"{inner.rsplit('.', 1)[-1]} called with a constant "
                                  f"training={flag.value}: the layer ignores the phase",
                                  path=src.path, line=node.lineno, col=node.col_offset,
                                  hint="pass the model's training argument through (or omit it "
                                       "and let Keras fit()/predict() set it)")
    yield from _tape_calls(src)
    yield from _inference_in_training_mode(src)
    # UPDATE_OPS in the code (tf.GraphKeys.UPDATE_OPS, a "update_ops" collection), not in a
    # docstring or comment
    update_ops = "UPDATE_OPS" in src.source and any(
        a.attr == "UPDATE_OPS" for a in src.of(ast.Attribute)) or "update_ops" in src.source \
        and any(isinstance(c.func, ast.Attribute) and c.func.attr == "get_collection" and
                "update_ops" in src.text_of(c) for c in src.of(ast.Call))
    if bn_calls and train_ops and update_ops and "as_default" in src.source:
        yield from _update_ops_of_another_graph(src, bn_calls)
    if bn_calls and train_ops and not update_ops:
        for call in bn_calls:
            if any(k.arg == "updates_collections" and isinstance(k.value, ast.Constant)
                   and k.value.value is None for k in call.keywords) or \
                    any(k.arg is None for k in call.keywords) and \
                    "updates_collections=None" in src.source.replace(" ", ""):
                continue  # updates in place (also through **bn_params)
            yield Finding(
                "MG501",
                "TF1 batch normalization whose moving statistics are never updated: the train "
                "op does not depend on tf.GraphKeys.UPDATE_OPS",
                path=src.path, line=call.lineno, col=call.col_offset,
                related=(Location(src.path, train_ops[0], 0, "train op created at"),),
                hint="update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS); with "
                     "tf.control_dependencies(update_ops): train_op = opt.minimize(loss)")


def _update_ops_of_another_graph(src: SourceFile, bn_calls: list[ast.Call]) -> Iterator[Finding]:
    """The model is built inside ``with self._graph.as_default():`` but
    ``tf.get_collection(tf.GraphKeys.UPDATE_OPS)`` is read in the same function outside that
    block: it reads the default graph's (empty) collection, so the train op depends on no
    update op and the moving statistics never change."""
    for func in src.of(ast.FunctionDef):
        graphs = [w for w in src.within(func, ast.With) if any(
            isinstance(i.context_expr, ast.Call) and isinstance(i.context_expr.func,
                                                                ast.Attribute) and
            i.context_expr.func.attr == "as_default" and
            "graph" in (dotted(i.context_expr.func.value) or "").lower() for i in w.items)]
        if not graphs:
            continue
        stray = next((c for c in src.within(func, ast.Call)
                      if (dotted(c.func) or "").endswith("get_collection") and
                      "UPDATE_OPS" in src.text_of(c) and not any(
                          w.lineno <= c.lineno <= (w.end_lineno or w.lineno) for w in graphs)),
                     None)
        if stray is None:
            continue
        for call in bn_calls:
            yield Finding(
                "MG501",
                "TF1 batch normalization whose moving statistics are never updated: "
                f"UPDATE_OPS is read at line {stray.lineno} outside the model's "
                "graph.as_default() block, from the default graph, where the collection is "
                "empty",
                path=src.path, line=call.lineno, col=call.col_offset,
                related=(Location(src.path, stray.lineno, 0, "UPDATE_OPS read at"),),
                hint="read tf.get_collection(tf.GraphKeys.UPDATE_OPS) inside the "
                     "`with graph.as_default():` block that builds the model")
        return


def _tape_calls(src: SourceFile) -> Iterator[Finding]:
    """Keras models called inside ``tf.GradientTape`` without ``training=``: in a custom
    training loop the call defaults to inference, so Dropout never drops and
    BatchNormalization never uses or learns batch statistics."""
    if "GradientTape" not in src.source or not any(
            t in src.source for t in ("Dropout", "BatchNormalization")):
        return
    trained = {name for node in src.of(ast.Attribute)
               if node.attr in ("trainable_variables", "trainable_weights")
               and (name := dotted(node.value)) is not None}
    # models built from a class of this file that has no Dropout or normalization layer (a
    # temperature scaler): training= changes nothing for them
    # (classes, and builder functions: def build_critic(...): ... return Model(s, q))
    plain = {c.name for kind in (ast.ClassDef, ast.FunctionDef) for c in src.of(kind)
             if (kind is ast.ClassDef or any(isinstance(r.value, ast.Call) and (
                 dotted(r.value.func) or "").endswith(("Model", "Sequential"))
                 for r in src.within(c, ast.Return) if r.value is not None)) and
             not any(t in src.text_of(c) for t in ("Dropout", "Normalization", "training"))}
    trained -= {name for node in src.of(ast.Assign) if isinstance(node.value, ast.Call)
                and dotted(node.value.func) in plain for t in node.targets
                if (name := dotted(t)) is not None}
    for kind in (ast.With, ast.AsyncWith):
        for block in src.of(kind):
            if not any(isinstance(i.context_expr, ast.Call) and
                       (dotted(i.context_expr.func) or "").endswith("GradientTape")
                       for i in block.items):
                continue
            for stmt in block.body:
                for call in src.within(stmt, ast.Call):
                    name = dotted(call.func)
                    if name in trained and keyword(call, "training") is None and \
                            len(call.args) < 2:
                        yield Finding(
                            "MG502",
                            f"{name}(...) inside GradientTape without training=True: Keras runs "
                            "it in inference mode (Dropout off, BatchNormalization frozen)",
                            path=src.path, line=call.lineno, col=call.col_offset,
                            hint=f"call {name}(x, training=True) in the training step")


# evaluation and inference code, by the name of its function (valid_step, predict_batch,
# evaluate, test_epoch, ...) or by the data a loop walks (gallery, test, val...)
_INFERENCE_SCOPE = re.compile(r"^_*(val|valid|validate|validation|eval|evaluate|evaluation|test|"
                              r"testing|predict|prediction|infer|inference|embed|encode|extract|"
                              r"index|score|serve|submit|submission)(_|$)", re.I)
_INFERENCE_DATA = re.compile(r"(^|_)(val|valid|validation|test|gallery|query|holdout|eval|"
                             r"submission|inference)(_|s?$|ds|set|loader|data)", re.I)
# Monte Carlo dropout kept on at inference on purpose
_MC = re.compile(r"\bmc\b|mc_|monte|uncertain|n_samples|num_samples|n_passes|stochastic",
                 re.I)


def _inference_in_training_mode(src: SourceFile) -> Iterator[Finding]:
    """A Keras model called with a constant ``training=True`` in inference code (a
    validation step, a predict or submission helper, a loop over the test or gallery set),
    outside any ``GradientTape``: dropout drops and BatchNormalization uses (and updates)
    batch statistics while predicting."""
    if "training=True" not in src.source or not any(
            t in src.source for t in ("keras", "tensorflow")):
        return
    tapes = [(w.lineno, w.end_lineno or w.lineno) for kind in (ast.With, ast.AsyncWith)
             for w in src.of(kind) if any(
                 isinstance(i.context_expr, ast.Call) and
                 (dotted(i.context_expr.func) or "").endswith("GradientTape") for i in w.items)]
    scopes = [f for kind in (ast.FunctionDef, ast.AsyncFunctionDef) for f in src.of(kind)]
    loops = list(src.of(ast.For))
    for call in src.of(ast.Call):
        flag = keyword(call, "training")
        if not (isinstance(flag, ast.Constant) and flag.value is True) or \
                isinstance(call.func, ast.Call) or \
                any(a <= call.lineno <= b for a, b in tapes):
            continue  # (layer calls inside a model's own call() are the model's business)
        owner = min((f for f in scopes if f.lineno <= call.lineno <= (f.end_lineno or 0)),
                    key=lambda f: (f.end_lineno or 0) - f.lineno, default=None)
        if owner is not None and owner.name in ("call", "__call__", "forward", "build"):
            continue
        around = [lp for lp in loops if lp.lineno <= call.lineno <= (lp.end_lineno or 0)]
        by_name = owner is not None and bool(_INFERENCE_SCOPE.match(owner.name))
        by_data = any(_INFERENCE_DATA.search(dotted(lp.iter) or "") for lp in around)
        if not (by_name or by_data):
            continue
        text = src.text_of(owner) if owner is not None else src.text_of(around[-1])
        if _MC.search(text) or any(isinstance(lp.iter, ast.Call) and
                                   dotted(lp.iter.func) == "range" for lp in around):
            continue  # repeated stochastic passes: MC dropout on purpose
        if owner is not None and _trains_itself(src, owner, scopes):
            continue  # a function that trains
        name = dotted(call.func) or "model"
        yield Finding("MG502",
                      f"{name}(..., training=True) in inference code: dropout drops and "
                      "BatchNormalization uses and updates batch statistics while predicting",
                      path=src.path, line=call.lineno, col=call.col_offset,
                      hint=f"call {name}(x, training=False) (or omit training=) outside the "
                           "training step")


def _trains_itself(src: SourceFile, func: ast.AST, scopes: list[ast.AST]) -> bool:
    """The function's own statements (not those of functions nested in it) compute or apply
    gradients."""
    nested = [(f.lineno, f.end_lineno or f.lineno) for f in scopes
              if f is not func and getattr(func, "lineno", 0) < f.lineno <=
              (getattr(func, "end_lineno", 0) or 0)]
    return any(isinstance(c.func, ast.Attribute) and
               c.func.attr in ("gradient", "apply_gradients", "minimize") and
               not any(a <= c.lineno <= b for a, b in nested)
               for c in src.within(func, ast.Call))


def _training_flag(src: SourceFile, node: ast.Call, what: str, effect: str) -> Iterator[Finding]:
    flag = keyword(node, "training") or keyword(node, "is_training")
    if flag is None and any(k.arg is None for k in node.keywords):
        return  # layers.batch_norm(h, **bn_params): the flag may well be in there
    if flag is None:
        yield Finding("MG502", f"TF {what} without training=: it defaults to False and {effect}",
                      path=src.path, line=node.lineno, col=node.col_offset,
                      hint="pass training=is_training (a placeholder or Python bool per phase)")
    elif isinstance(flag, ast.Constant) and isinstance(flag.value, bool):
        yield Finding("MG502", f"TF {what} with a constant training={flag.value}: the same "
                               "behaviour in training and inference",
                      path=src.path, line=node.lineno, col=node.col_offset,
                      hint="pass training=is_training (a placeholder or Python bool per phase)")
