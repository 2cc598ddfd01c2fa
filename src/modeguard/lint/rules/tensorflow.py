"""MG501 TF1 batch normalization without UPDATE_OPS, MG502 TF/Keras training flag constant or
missing."""

from __future__ import annotations

import ast
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
    for node in src.of(ast.Call):
        if isinstance(node.func, ast.Attribute) and node.func.attr in ("minimize",
                                                                      "apply_gradients"):
            train_ops.append(node.lineno)
        name = call_name(node, imports)
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
    if bn_calls and train_ops and "UPDATE_OPS" not in src.source:
        for call in bn_calls:
            if any(k.arg == "updates_collections" and isinstance(k.value, ast.Constant)
                   and k.value.value is None for k in call.keywords):
                continue  # updates in place
            yield Finding(
                "MG501",
                "TF1 batch normalization whose moving statistics are never updated: the train "
                "op does not depend on tf.GraphKeys.UPDATE_OPS",
                path=src.path, line=call.lineno, col=call.col_offset,
                related=(Location(src.path, train_ops[0], 0, "train op created at"),),
                hint="update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS); with "
                     "tf.control_dependencies(update_ops): train_op = opt.minimize(loss)")


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


def _training_flag(src: SourceFile, node: ast.Call, what: str, effect: str) -> Iterator[Finding]:
    flag = keyword(node, "training") or keyword(node, "is_training")
    if flag is None:
        yield Finding("MG502", f"TF {what} without training=: it defaults to False and {effect}",
                      path=src.path, line=node.lineno, col=node.col_offset,
                      hint="pass training=is_training (a placeholder or Python bool per phase)")
    elif isinstance(flag, ast.Constant) and isinstance(flag.value, bool):
        yield Finding("MG502", f"TF {what} with a constant training={flag.value}: the same "
                               "behaviour in training and inference",
                      path=src.path, line=node.lineno, col=node.col_offset,
                      hint="pass training=is_training (a placeholder or Python bool per phase)")
