"""Mode flow through a file: MG101, MG102, MG401 (and MG301, MG302 for BatchNorm freezes).

The analysis walks each function's statements in order, tracking the mode of every
*receiver* (``model``, ``self.encoder``, ...) that has ``.train()``/``.eval()`` called on it,
and follows calls through summaries (which receivers a call leaves in eval or train mode,
whether it steps an optimizer): functions and methods of the same file, functions imported
from other linted files, and methods of objects built from project classes (``self.x``
inside the method stands for the receiver). Loops are walked twice, so a mode left behind
at the end of one iteration reaches the training step of the next. Restore idioms
(``model.train(was)``, ``try/finally``, modeguard's contexts) count as restoring.

Receivers whose class is known (``model = Net(...)``) are judged by the class: one without
mode-sensitive layers is never reported. Unknown ones are recognised by how they are used
and named, and reported one step less severe.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Iterator

from modeguard.findings import Finding, Location, Severity
from modeguard.lint.astutil import dotted
from modeguard.lint.source import SourceFile

EVAL, TRAIN, RESTORED = "eval", "train", "restored"
# optimizer, self.opt, opt_d, optimizerG, d_optim, g_optimizer, scaler, discr_scaler
_OPTIMIZER = re.compile(r"(^|[._])([a-z0-9]*_?)?(opt|optim|optimizer|optimiser|scaler)"
                        r"(_?[a-z0-9]{1,3})?$", re.I)
_MODELISH = re.compile(r"(^|[._])(model|net|network|module|encoder|decoder|backbone|"
                       r"classifier|generator|discriminator|student|policy|head|unet|"
                       r"transformer|teacher|critic|actor|extractor|segmentor|segmenter|detector|"
                       r"recognizer|embedder|tagger|denoiser|autoencoder|vae|tower|lm|llm|clf|"
                       r"cnn|rnn|lstm|mlp|resnet\w*|vit|bert\w*|gpt\w*|wrn|"
                       r"[a-z0-9]*_?(model|net|enc|encoder|extractor|detector|embedder))$", re.I)
_NOT_MODELS = re.compile(r"(^|[._])(trainer|df|frame|pd|np|sympy|sp|expr|env|tokenizer)$", re.I)
_EVAL_SCOPE = re.compile(r"^(validate|validation|val|valid|evaluate|evaluation|eval|test|"
                         r"testing|predict|prediction|infer|inference|extract|score|"
                         r"compute_metrics|holdout)(_.*)?$|^(run_|do_|_)(val|valid|validation|eval|"
                         r"evaluate|evaluation|test|testing|predict|prediction|infer|inference)"
                         r"(_[a-z0-9_]*)?$", re.I)
_SENSITIVE_LAYER = re.compile(r"^(Dropout[123]?d?|AlphaDropout|FeatureAlphaDropout|"
                              r"(Lazy)?BatchNorm[123]d|SyncBatchNorm|InstanceNorm[123]d|LSTM|GRU|"
                              r"RNN|MultiheadAttention|Transformer\w*)$")
_NEUTRAL_CALLS = frozenset({"super", "range", "len", "list", "tuple", "dict", "set", "int",
                            "float", "str", "bool", "print", "isinstance", "getattr", "setattr",
                            "hasattr", "zip", "enumerate", "min", "max", "sum", "abs", "round"})
# gradients taken to explain or attack a model, not to train it: hooks on activations or
# gradients, inputs that require gradients, the usual names
_ANALYSIS = re.compile(r"register_(full_)?backward_hook|register_forward_hook|"
                       r"requires_grad_\((True)?\)|saliency|grad_?cam|adversar|fgsm|attack",
                       re.I)
# words of evaluation helpers' names beyond _EVAL_SCOPE (real_statistics, fid_score, knn_top1)
_EVALUATION_WORD = re.compile(r"(^|_)(scores?|metrics?|statistics?|stats|accuracy|acc|bleu|rouge|"
                              r"wer|perplexity|ppl|fid|m?ap\d*|iou|embed\w*|features?|extract\w*|"
                              r"predict\w*|infer\w*|knn|probe|benchmark|measure)(_|$|\d)", re.I)
# helpers that look at the model for a human (previews, logged images, plots): evaluations
_MONITORING = re.compile(r"(^_*|_)(preview|visuali[sz]e|vis|viz|log|write|plot|show|render|"
                         r"monitor|report|summary|summari[sz]e|snapshot|dump|probe)(s?_|s?$)",
                         re.I)
# helpers that show what a model makes (reconstructions, samples): one forward evaluates
_DISPLAY = re.compile(r"(^_*|_)(show|plot|visuali[sz]e|vis|viz|preview|render|display|"
                      r"reconstructions?|samples)(s?_|s?$)", re.I)
_RECALIBRATION = re.compile(r"(^|_)(bn|batch_?norm|precise|recalib)", re.I)
_FRAMEWORK_EVAL = {"validation_step", "test_step", "predict_step", "validation_epoch_end",
                   "prediction_step", "evaluation_loop", "prediction_loop",  # HF Trainer
                   "on_validation_epoch_end", "test_epoch_end"}
_NO_GRAD = ("no_grad", "inference_mode", "enable_grad")
_NESTED_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
# nn.Module methods (and common helper names) that do not run the model
_NOT_FORWARD = re.compile(r"^(get_|set_|register_|load_|save_|reset_|init_|named_|is_|has_|"
                          r"can_|should_|num_|to_|create_|add_|build_|make_|export_|write_|"
                          r"read_|update_|remove_|convert_|print_|log_|plot_|"
                          r"(get|pop|update|copy|append|extend|format|join|split|replace|item|"
                          r"tolist|numpy|detach|clone|sum|mean|max|min|argmax|argmin|view|"
                          r"reshape|permute|transpose|squeeze|unsqueeze|flatten|contiguous)$|"
                          r"(zero_grad|parameters|buffers|children|modules|state_dict|apply|"
                          r"extra_repr|keys|values|items|numel|size|dim)$)|"
                          r".*_(rate|context|symbol|size|dim|shape|ids?|count|names?|config|"
                          r"cfg)$|.+_to_")
# torch.nn layers without any mode-dependent behaviour
_MODE_FREE_LAYERS = frozenset({
    "Linear", "Bilinear", "Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d",
    "ConvTranspose3d", "Embedding", "EmbeddingBag", "LayerNorm", "GroupNorm", "RMSNorm",
    "Identity", "ReLU", "GELU", "SiLU", "Tanh", "Sigmoid", "Softmax", "LogSoftmax", "Flatten",
    "MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d",
    "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d"})
# libraries that build no layers: their calls in a class body say nothing about its modes
_PLAIN_LIBRARIES = ("math.", "numpy.", "random.", "functools.", "itertools.", "operator.",
                    "copy.", "warnings.", "logging.", "einops.", "collections.", "typing.",
                    "os.", "sys.", "re.", "json.", "time.", "dataclasses.")
# averaged copies (EMA, SWA) live in eval mode and are never stepped
_AVERAGED = re.compile(r"(^|[._])(ema|swa|averaged|avg)([._]|$)|_(ema|swa)$", re.I)
_TEST_FILE = re.compile(r"(^|[/\\])(test_[^/\\]*|[^/\\]*_test)\.py$")  # pytest's file names
_MODEGUARD_CTX = ("eval_mode", "inference", "train_mode")


# methods that return the module itself: model.to(device).train() switches `model`
_CHAINABLE = frozenset({"to", "cpu", "cuda", "float", "half", "double", "bfloat16", "train",
                        "eval", "requires_grad_", "type", "xpu", "to_empty", "share_memory"})


def _receiver(node: ast.AST) -> str | None:
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
            node.func.attr in _CHAINABLE:
        node = node.func.value
    name = dotted(node)
    if name is None or name in ("self", "super"):
        return None
    if _NOT_MODELS.search(name):
        return None
    return name


def _head(node: ast.AST) -> str | None:
    """``a`` for ``a.b.c``; None when the chain does not start with a name."""
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _mode_call(call: ast.Call) -> tuple[str, str] | None:
    """``(receiver, EVAL|TRAIN|RESTORED)`` for ``x.eval()`` / ``x.train(...)``."""
    func = call.func
    if not isinstance(func, ast.Attribute) or func.attr not in ("eval", "train"):
        return None
    recv = _receiver(func.value)
    if recv is None:
        return None
    if func.attr == "eval":
        if call.args or call.keywords:  # pandas/sympy .eval("expr")
            return None
        return recv, EVAL
    arg = call.args[0] if call.args else next((k.value for k in call.keywords
                                               if k.arg == "mode"), None)
    if arg is None or (isinstance(arg, ast.Constant) and arg.value is True):
        return recv, TRAIN
    if isinstance(arg, ast.Constant) and arg.value is False:
        return recv, EVAL
    if isinstance(arg, ast.Constant):
        return None  # model.train("...") on something else
    return recv, RESTORED


def _is_backward(call: ast.Call) -> bool:
    """``loss.backward()``, ``torch.autograd.grad(...)``."""
    func = call.func
    if not isinstance(func, ast.Attribute):
        return False
    return func.attr == "backward" or func.attr == "grad" and \
        (dotted(func) or "").endswith("autograd.grad")


def _is_step(call: ast.Call) -> bool:
    """An optimizer step (``optimizer.step()``, ``scaler.step(opt)``); not a scheduler's."""
    func = call.func
    if not isinstance(func, ast.Attribute):
        return False
    if func.attr == "step":
        name = dotted(func.value) or ""
        if "sched" in name.lower():
            return False
        return bool(_OPTIMIZER.search(name)) or (isinstance(func.value, ast.Call)
                                                 and "opt" in (dotted(func.value.func) or ""))
    return False


def _callee(call: ast.Call) -> str | None:
    """``name`` for ``name(...)``, ``self.name`` for ``self.name(...)``."""
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name) \
            and call.func.value.id == "self":
        return "self." + call.func.attr
    return None


@dataclass
class Summary:
    """What calling a function does to modes."""

    effects: dict[str, tuple[str, int, str]] = field(default_factory=dict)  # recv -> (mode, line, path)
    steps: bool = False
    backward: bool = False  # runs a backward pass (itself or through its callees)
    params: list[str] = field(default_factory=list)
    # the modes it has set when its first step runs (a train_one_epoch() that calls
    # model.train() itself, steps, then evaluates: the step sees train mode)
    at_step: dict[str, tuple[str, int, str]] = field(default_factory=dict)
    # an evaluation function's forwards of a parameter it never switches itself:
    # (parameter receiver, line, path, under no_grad); the caller decides their mode
    evaluates: list[tuple[str, int, str, bool]] = field(default_factory=list)
    # the mode of what it returns, set inside it (a loader that ends with model.eval() and
    # return model): (mode, line, path) of that mode call
    returns: tuple[str, int, str] | None = None
    # the same for each item of a returned tuple (return image_tower, text_tower)
    returns_items: tuple[tuple[str, int, str] | None, ...] = ()
    # its steps all sit under ``if not P:`` (P, False) or ``if P:`` (P, True), P a parameter;
    # ``default``: P's default value when it has a constant one
    step_guard: tuple[str, bool] | None = None
    guard_default: Any = None
    # parameters and ``self.`` attributes its steps cannot train: it runs them only without
    # gradients (a distillation teacher, a momentum encoder beside the trained student)
    spared: set[str] = field(default_factory=set)
    # BatchNorm freezes it runs (itself or through its callees): (line, path) of each eval()
    freezes: list[tuple[int, str]] = field(default_factory=list)
    # those of them that freeze layers of what it returns (a build_detector() that calls
    # det.trunk.freeze_bn() and returns det)
    returns_freezes: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class _Event:
    kind: str  # "mode" | "step" | "backward" | "forward" | "evaluates" | "return"
    line: int
    recv: str = ""
    mode: str = ""
    via: int = 0  # line of the call that led here (for events inside callees)
    path: str = ""  # file of the event when it happened in another file
    implicit: bool = False  # set by a loader, not by an eval() call (from_pretrained)
    copy: bool = False  # set on a fresh copy (snap = copy.deepcopy(net).eval()): not trained
    # a step through a call: the receivers that call cannot train (run by it without gradients
    # only), and the names it is handed (None for a step made here)
    spared: frozenset[str] = frozenset()
    reach: frozenset[str] | None = None


# libraries whose callables build things that are called like models but have no mode
_FOREIGN = ("torchaudio.models.decoder", "onnxruntime", "sklearn", "xgboost", "lightgbm",
            "joblib", "tokenizers", "sentencepiece", "transformers.pipeline", "tensorflow",
            "keras", "jax", "flax")

# torch containers and wrappers whose train()/eval() reaches the modules they are built from
_CONTAINERS = frozenset({"Sequential", "ModuleList", "ModuleDict", "DistributedDataParallel",
                         "DataParallel", "DDP", "FullyShardedDataParallel", "FSDP"})


def _strip_chain(value: ast.expr) -> ast.expr:
    """The call under ``.to()``/``.cuda()``/... chains of calls: ``Net(...).to(device)`` ->
    ``Net(...)``."""
    while isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and \
            value.func.attr in _CHAINABLE and isinstance(value.func.value, ast.Call):
        value = value.func.value
    return value


def _unchained(value: ast.expr) -> str | None:
    """The name under ``.to()``/``.cuda()``/... chains: ``net.to(device).half()`` -> "net"."""
    while isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and \
            value.func.attr in _CHAINABLE:
        value = value.func.value
    return value.id if isinstance(value, ast.Name) else None


def _loop_aliases(loop: ast.For | ast.AsyncFor) -> dict[str, list[str]]:
    """``for m in (model, ema):`` -> {"m": ["model", "ema"]}; also ``for m, name in ((a, "a"),
    (b, "b")):``. Only loops over literal tuples and lists of names."""
    items = loop.iter.elts if isinstance(loop.iter, (ast.Tuple, ast.List)) else None
    if not items:
        return {}
    targets = [loop.target] if isinstance(loop.target, ast.Name) else \
        list(loop.target.elts) if isinstance(loop.target, ast.Tuple) else []
    out: dict[str, list[str]] = {}
    for i, target in enumerate(targets):
        if not isinstance(target, ast.Name):
            continue
        if len(targets) == 1:
            names = [dotted(e) for e in items]
        else:
            names = [dotted(e.elts[i]) if isinstance(e, ast.Tuple) and len(e.elts) == len(targets)
                     else None for e in items]
        if all(names):
            out[target.id] = names  # type: ignore[assignment]
    return out


def _flag_writes(loop: ast.For | ast.AsyncFor | ast.While) -> list[tuple[str, str, int]]:
    """``for name, m in net.named_modules(): m.training = saved[name]``: the loop sets the
    mode of the whole of ``net`` by hand (a constant value: train or eval; anything else: a
    restore). ``[(receiver, mode, line)]``."""
    it = getattr(loop, "iter", None)
    if not (isinstance(it, ast.Call) and isinstance(it.func, ast.Attribute) and
            it.func.attr in ("modules", "named_modules", "children", "named_children")):
        return []
    recv = _receiver(it.func.value)
    target = loop.target  # type: ignore[union-attr]
    var = target.elts[-1] if isinstance(target, ast.Tuple) and target.elts else target
    if recv is None or not isinstance(var, ast.Name):
        return []
    out = []
    for stmt in loop.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and \
                isinstance(stmt.targets[0], ast.Attribute) and stmt.targets[0].attr == "training" \
                and isinstance(stmt.targets[0].value, ast.Name) and \
                stmt.targets[0].value.id == var.id:
            value = stmt.value
            mode = (TRAIN if value.value else EVAL) if isinstance(value, ast.Constant) \
                else RESTORED
            out.append((recv, mode, stmt.lineno))
    return out


def _terminates(body: list[ast.stmt]) -> bool:
    """The block always leaves the function: it ends with ``return``, ``raise`` or
    ``sys.exit()``."""
    last = body[-1] if body else None
    if isinstance(last, (ast.Return, ast.Raise)):
        return True
    return isinstance(last, ast.Expr) and isinstance(last.value, ast.Call) and \
        (dotted(last.value.func) or "") in ("sys.exit", "exit", "quit", "os._exit")


def _set_mode(state: dict[str, Any], recv: str, value: Any) -> None:
    """``recv.train()``/``eval()`` sets the mode of everything below it too (``model.train()``
    also switches ``model.module`` and ``model.encoder``)."""
    state[recv] = value
    prefix = recv + "."
    for key in state:
        if key.startswith(prefix):
            state[key] = value


def _mode_of(state: dict[str, Any], recv: str) -> Any:
    """The mode ``recv`` was last set to, by itself or through a parent (``model.eval()``
    covers ``model.encoder`` and ``model._forward_encoder``)."""
    while True:
        if recv in state:
            return state[recv]
        recv, dot, _ = recv.rpartition(".")
        if not dot:
            return None


class FileModel:
    """Functions of one file, their summaries, and the flow analysis over them."""

    def __init__(self, src: SourceFile, project: Any = None, nested: bool = False) -> None:
        from modeguard.lint import project as _project

        self.src = src
        # a file reached from another one resolves calls within itself only: following
        # imports one file deep keeps the cost bounded on large projects
        self.project = None if nested else (project if project is not None
                                            else _project.current)
        # ...except for the class of a receiver whose methods it calls (the wrapper object of
        # an evaluation helper: model.val_start() in evaluation.py, model built in model.py)
        self.class_project = project if project is not None else _project.current
        self.functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
        self.methods: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}  # "Cls.meth"
        self.owner: dict[int, str] = {}  # id(function) -> class name
        self.method_owners: dict[str, list[str]] = {}  # method name -> classes defining it
        self.classes: set[str] = set()
        for node in src.tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.functions[node.name] = node
            elif isinstance(node, ast.ClassDef):
                self.classes.add(node.name)
                for item in node.body:
                    if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        self.functions.setdefault("self." + item.name, item)
                        self.methods[f"{node.name}.{item.name}"] = item
                        self.owner[id(item)] = node.name
                        self.method_owners.setdefault(item.name, []).append(node.name)
        self._summaries: dict[str, Summary] = {}
        self._busy: set[str] = set()
        self._events: dict[tuple[int, int], list[_Event]] = {}
        self._loop_level = 0
        self._aliases: dict[str, list[str]] = {}  # loop variables over literal model tuples
        self._guarded = 0  # > 0 inside try/finally or a restoring context: returns restore
        self._sensitive: dict[str, bool | None] = {}  # class_sensitive() of each class
        self._may_step: bool | None = None
        self.stmt_calls, self.scope_calls = src.calls_by_statement, src.calls_by_scope
        calls = src.of(ast.Call)
        # only attribute calls can step or run backward: one pass over those
        steps = [c.lineno for c in calls if isinstance(c.func, ast.Attribute) and
                 c.func.attr in ("step", "backward", "grad") and (_is_step(c) or _is_backward(c))]
        self.has_step = any(_is_step(c) for c in calls if isinstance(c.func, ast.Attribute)
                            and c.func.attr == "step")
        self.gradient_lines = sorted(steps)
        self.no_grad_withs = [w for w in src.of(ast.With) + src.of(ast.AsyncWith)
                              if _is_no_grad_with(w)]
        self._types: dict[str, ast.expr] | None = None
        self._contains: dict[str, list[str]] | None = None
        # receivers pinned to eval as a whole by modeguard.pin_mode: deliberate, never a bug
        self.pinned = {r for c in (calls if "pin_mode" in src.source else ())
                       if (dotted(c.func) or "").rsplit(".", 1)[-1] == "pin_mode"
                       and len(c.args) >= 2 and isinstance(c.args[1], ast.Constant)
                       and c.args[1].value == "eval" and not any(k.arg == "types"
                                                                  for k in c.keywords)
                       and (r := _receiver(c.args[0])) is not None}
        # names that are functions, classes or imported modules: calling them is not a forward
        self.freezes = list(_bn_freezes(src))
        self.not_models = set(src.imports.names) | {
            n.name for n in src.tree.body
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}

    @cached_property
    def scope_functions(self) -> list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
        """Every function and method of the file to analyse as a scope: ``name`` and
        ``self.name`` as calls resolve them, plus ``Class.name`` for a method whose name an
        earlier class already uses (calls cannot tell them apart, the scopes still count)."""
        shadowed = [(key, f) for key, f in self.methods.items()
                    if self.functions.get("self." + key.split(".", 1)[1]) is not f]
        return list(self.functions.items()) + shadowed + self.event_handlers

    @cached_property
    def event_handlers(self) -> list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
        """Functions nested in a function and registered as per-iteration event handlers of a
        training engine (ignite: ``@trainer.on(Events.ITERATION_COMPLETED(every=N))``):
        training goes on when they return. Named ``outer.<locals>.name``."""
        if "ITERATION_" not in self.src.source:
            return []
        out = []
        for outer in self.functions.values():
            for inner in self.src.within(outer, ast.FunctionDef):
                if inner is not outer and any(
                        isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute) and
                        d.func.attr == "on" and "ITERATION_" in self.src.text_of(d)
                        for d in inner.decorator_list):
                    out.append((f"{outer.name}.<locals>.{inner.name}", inner))
        return out

    @cached_property
    def scope_lookup(self) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
        return dict(self.scope_functions)

    def may_step(self) -> bool:
        """Whether an optimizer step can be reached from this file at all: a step here, or in
        another linted file that its calls may resolve into (such files resolve calls within
        themselves only, so their text tells)."""
        if self.has_step:
            return True
        if self._may_step is None:
            self._may_step = self._steps_elsewhere()
        return self._may_step

    def _steps_elsewhere(self) -> bool:
        if self.project is None:
            return False
        from modeguard.lint.project import STEP_TEXT

        imports = self.src.imports
        names = {imports.resolve(c.func) for c in self.src.of(ast.Call)
                 if _head(c.func) in imports.names}  # only imports lead to other files
        return any(self.project.mentions(q, STEP_TEXT, near=self.src.module)
                   for q in names if q and "." in q)

    # ------------------------------------------------------------ summaries

    def summary(self, name: str) -> Summary | None:
        func = self.functions.get(name) or self.methods.get(name)
        if func is None:
            return None
        if name in self._summaries:
            return self._summaries[name]
        if name in self._busy:
            return Summary()  # recursion: no effect assumed
        self._busy.add(name)
        outer_level, self._loop_level = self._loop_level, 0  # the callee's own loops count
        try:
            result = Summary(params=[a.arg for a in func.args.args if a.arg != "self"])
            state: dict[str, tuple[str, int, str]] = {}
            exits: list[dict[str, tuple[str, int, str]]] = []
            own = {line for _, line in self.freezes}
            returned = {r.value.id for r in self.src.within(func, ast.Return)
                        if isinstance(r.value, ast.Name)} if self.freezes or self.project else ()
            saved: list[dict[str, tuple[str, int, str]]] = []
            for ev in self.events(func.body, depth=1):
                if ev.kind == "branch":
                    saved.append(dict(state))
                elif ev.kind == "merge" and saved:
                    state = saved.pop()
                if ev.kind == "mode" and ev.mode == EVAL and (
                        not ev.path and ev.line in own or ev.recv.endswith(".<bn>")) and \
                        (ev.line, ev.path or self.src.path) not in result.freezes:
                    result.freezes.append((ev.line, ev.path or self.src.path))
                    if ev.recv.split(".", 1)[0] in returned:
                        result.returns_freezes.append((ev.line, ev.path or self.src.path))
                if ev.kind == "return":
                    exits.append(dict(state))
                elif ev.kind == "mode":
                    _set_mode(state, ev.recv, (ev.mode, ev.line, ev.path or self.src.path))
                elif ev.kind == "step" and not result.steps:
                    result.steps = True
                    result.at_step = dict(state)
                elif ev.kind == "backward":
                    result.backward = True
            for early in exits:
                # eval(); if rank != 0: return; ...; train(): some callers get eval mode back
                for recv, effect in early.items():
                    if effect[0] == EVAL and state.get(recv, ("",))[0] != EVAL:
                        state[recv] = effect
            result.returns = self._returned_mode(func, state) or self._returned_fresh(func, state)
            result.returns_items = self._returned_items(func, state)
            if result.steps:
                result.step_guard, result.guard_default = self._step_guard(func, result.params)
            # a model the function builds for itself (net = Net(); net.eval()) is not the
            # caller's model, even under the same name
            local = _local_names(self.src, func) - set(result.params)
            result.effects = {recv: effect for recv, effect in state.items()
                              if recv.split(".", 1)[0] not in local}
            result.at_step = {recv: effect for recv, effect in result.at_step.items()
                              if recv.split(".", 1)[0] not in local}
            result.evaluates = self._evaluates(name, func, result.params)
            if result.steps:
                heads = set(result.params) | {"self"}
                result.spared = {recv for call in self.src.within(func, ast.Call)
                                 if (recv := dotted(call.func)) is not None and
                                 recv.split(".", 1)[0] in heads and recv != "self" and
                                 self.only_without_grad(func, recv)}
            self._summaries[name] = result
            return result
        finally:
            self._busy.discard(name)
            self._loop_level = outer_level

    def only_without_grad(self, func: ast.AST, recv: str) -> bool:
        """In a function that trains (steps or runs backward, itself or through a helper),
        ``recv`` is only ever run under no_grad and never handed to a call outside no_grad: a
        distillation teacher or frozen feature extractor beside the model being trained."""
        first = getattr(func, "lineno", 0)
        last = getattr(func, "end_lineno", None) or first
        blocks = [w for w in self.no_grad_withs if first <= w.lineno <= last]
        whole = _decorated_no_grad(func)

        def inside(line: int) -> bool:
            return whole or any(b.lineno <= line <= (b.end_lineno or b.lineno) for b in blocks)

        run = False
        for call in self.src.within(func, ast.Call):
            if dotted(call.func) == recv:
                if not inside(call.lineno):
                    return False
                run = True
            elif not inside(call.lineno) and any(
                    dotted(a) == recv for a in [*call.args, *(k.value for k in call.keywords)]):
                return False  # handed to a helper that may train it
        if not run or whole:
            return False
        return any(first <= n <= last for n in self.gradient_lines) or any(
            e.kind in ("step", "backward") for e in self.events(func.body, depth=1))

    def _step_guard(self, func: ast.AST, params: list[str]) -> tuple[tuple[str, bool] | None,
                                                                      Any]:
        """(P, truth) when every step of the function runs only if parameter P has that
        truth value (``def run_epoch(loader, cross_valid=False): ... if not cross_valid:
        optimizer.step()``), and P's constant default."""
        first, last = func.lineno, func.end_lineno or func.lineno  # type: ignore[attr-defined]
        lines = [n for n in self.gradient_lines if first <= n <= last]
        if not lines:
            return None, None  # it steps through a callee: no guard known here
        guard: tuple[str, bool] | None = None
        for line in lines:
            found = None
            for node in self.src.within(func, ast.If):
                test, truth = node.test, True
                if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
                    test, truth = test.operand, False
                if isinstance(test, ast.Name) and test.id in params and node.body and \
                        node.body[0].lineno <= line <= (node.body[-1].end_lineno or 0):
                    found = (test.id, truth)
            if found is None or guard is not None and found != guard:
                return None, None
            guard = found
        args = func.args  # type: ignore[attr-defined]
        positional = [a.arg for a in args.args]
        default = None
        if guard is not None and guard[0] in positional[len(positional) - len(args.defaults):]:
            value = args.defaults[positional.index(guard[0]) - len(positional) +
                                  len(args.defaults)]
            default = value.value if isinstance(value, ast.Constant) else None
        return guard, default

    @staticmethod
    def _steps_off(call: ast.Call, summary: Summary) -> bool:
        """Whether this call's constant argument turns the callee's guarded steps off
        (``run_epoch(loader, cross_valid=True)``)."""
        if summary.step_guard is None:
            return False
        param, truth = summary.step_guard
        value: Any = summary.guard_default
        given = next((k.value for k in call.keywords if k.arg == param), None)
        if given is None and param in summary.params and \
                summary.params.index(param) < len(call.args):
            given = call.args[summary.params.index(param)]
        if given is not None:
            if not isinstance(given, ast.Constant):
                return False
            value = given.value
        return value is not None and bool(value) != truth

    def _returned_mode(self, func: ast.AST,
                       state: dict[str, tuple[str, int, str]]) -> tuple[str, int, str] | None:
        """The mode every ``return`` of the function hands back, if it set one."""
        nested = [(d.lineno, d.end_lineno or d.lineno) for kind in _NESTED_DEFS
                  for d in self.src.within(func, kind) if d is not func]
        found = None
        for ret in self.src.within(func, ast.Return):
            if any(a <= ret.lineno <= b for a, b in nested):
                continue  # a nested function's return
            recv = _receiver(ret.value) if ret.value is not None else None
            mode = _mode_of(state, recv) if recv is not None else None
            if mode is None or found is not None and found[0] != mode[0]:
                return None
            found = mode
        return found

    def _returned_fresh(self, func: ast.AST,
                        state: dict[str, tuple[str, int, str]]) -> tuple[str, int, str] | None:
        """A factory that builds a module of a class of this file and returns it without
        switching its mode (``net = FeatureNet(); net.load_state_dict(...); return
        net.to(device)``): a new module is in training mode."""
        from modeguard.lint.astutil import looks_like_module

        found = None
        for ret in self.src.within(func, ast.Return):
            if ret.value is None:
                return None
            name = _unchained(ret.value)
            if name is None:  # return Net(...).to(device): built right there
                value, line = _strip_chain(ret.value), ret.lineno
            else:
                if _mode_of(state, name) is not None:
                    return None
                built = [a for a in self.src.within(func, ast.Assign) if len(a.targets) == 1
                         and isinstance(a.targets[0], ast.Name) and a.targets[0].id == name]
                value = _strip_chain(built[-1].value) if built else None
                line = built[-1].lineno if built else 0
            cls = dotted(value.func) if isinstance(value, ast.Call) else None
            node = next((c for c in self.src.tree.body if isinstance(c, ast.ClassDef) and
                         c.name == cls), None)
            if node is None or not looks_like_module(node) or \
                    found is not None and found[1] != line:
                return None
            found = (TRAIN, line, self.src.path)
        return found

    def _returned_items(self, func: ast.AST, state: dict[str, tuple[str, int, str]]
                        ) -> tuple[tuple[str, int, str] | None, ...]:
        """Per item of the tuple every ``return`` hands back, the mode it set (or None)."""
        if not state:
            return ()
        nested = [(d.lineno, d.end_lineno or d.lineno) for kind in _NESTED_DEFS
                  for d in self.src.within(func, kind) if d is not func]
        items: list[tuple[str, int, str] | None] | None = None
        for ret in self.src.within(func, ast.Return):
            if any(a <= ret.lineno <= b for a, b in nested):
                continue
            if not isinstance(ret.value, ast.Tuple) or \
                    items is not None and len(items) != len(ret.value.elts):
                return ()
            modes = [_mode_of(state, r) if (r := _receiver(e)) is not None else None
                     for e in ret.value.elts]
            items = modes if items is None else [a if a == b else None
                                                 for a, b in zip(items, modes)]
        return tuple(items or ())

    def _evaluates(self, name: str, func: ast.AST, params: list[str]) -> list[
            tuple[str, int, str, bool]]:
        """The first forward of each parameter model in an evaluation function (named like
        one, or under no_grad, and computing no gradients) that does not set its mode."""
        first, last = func.lineno, func.end_lineno or func.lineno  # type: ignore[attr-defined]
        blocks = [w for w in self.no_grad_withs if first <= w.lineno <= last]
        if not (_EVAL_SCOPE.match(name.split(".")[-1]) or blocks or _decorated_no_grad(func)):
            return []
        if any(first <= n <= last for n in self.gradient_lines):
            return []
        out, touched = [], set()
        whole = _decorated_no_grad(func)
        for ev in self.events(func.body, depth=1):  # type: ignore[attr-defined]
            if ev.kind == "mode":
                touched.add(ev.recv.split(".", 1)[0])
            elif ev.kind == "forward" and ev.recv.split(".", 1)[0] in params and \
                    ev.recv not in touched and ev.recv.split(".", 1)[0] not in touched and \
                    _MODELISH.search(ev.recv) and all(e[0] != ev.recv for e in out):
                under = whole or any(
                    b.lineno <= ev.line <= (b.end_lineno or b.lineno) for b in blocks)
                out.append((ev.recv, ev.line, self.src.path, under))
        # helpers of this file it hands its model to (evaluate_retrieval(net) calls
        # dump_descriptors(net, loader)): their forwards of it are its own
        for call in self.src.within(func, ast.Call):
            helper = self.functions.get(call.func.id) if isinstance(call.func, ast.Name) \
                else None
            if helper is None or helper is func or not call.args:
                continue
            inner = [a.arg for a in helper.args.args]
            for param, value in zip(inner, call.args):
                head = _receiver(value)
                if head not in params or head in touched or not _MODELISH.search(head) or \
                        any(e[0] == head for e in out):
                    continue
                hit = self._plain_forward(helper, param)
                if hit is not None:
                    under = whole or hit[1] or any(
                        b.lineno <= call.lineno <= (b.end_lineno or b.lineno) for b in blocks)
                    out.append((head, hit[0], self.src.path, under))
        return out

    def _plain_forward(self, func: ast.AST, param: str) -> tuple[int, bool] | None:
        """The first forward of parameter ``param`` in ``func`` if the function neither
        switches its mode nor computes gradients: (line, under no_grad)."""
        first, last = func.lineno, func.end_lineno or func.lineno  # type: ignore[attr-defined]
        if any(first <= n <= last for n in self.gradient_lines):
            return None
        blocks = [w for w in self.no_grad_withs if first <= w.lineno <= last]
        for ev in self.events(func.body, depth=1):  # type: ignore[attr-defined]
            if ev.kind == "mode" and ev.recv.split(".", 1)[0] == param:
                return None
            if ev.kind == "forward" and ev.recv == param:
                return ev.line, _decorated_no_grad(func) or any(
                    b.lineno <= ev.line <= (b.end_lineno or b.lineno) for b in blocks)
        return None

    # ------------------------------------------------------------ events

    def events(self, body: list[ast.stmt], depth: int = 0) -> list[_Event]:
        """Mode changes, steps and calls of a statement list, in execution order (memoized).

        ``try``: body, handlers, else, then ``finally`` last; ``with`` modeguard contexts and
        ``with torch.no_grad()`` are transparent; loops are walked twice.
        """
        key = (id(body), depth)
        cached = self._events.get(key)
        if cached is None:
            cached = self._events[key] = [ev for stmt in body for ev in self._stmt(stmt, depth)]
        return cached

    def _stmt(self, stmt: ast.stmt, depth: int) -> Iterator[_Event]:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return
        if isinstance(stmt, (ast.For, ast.AsyncFor, ast.While)):
            yield from self._expr_events(stmt, depth)
            # twice, so that what one iteration leaves behind reaches the next; only the two
            # outermost loop levels are doubled (nested loops would otherwise grow 2**depth)
            self._loop_level += 1
            aliases = _loop_aliases(stmt) if not isinstance(stmt, ast.While) else {}
            self._aliases.update(aliases)
            try:
                body = self.events(stmt.body, depth)
                yield from body
                if self._loop_level <= 2:
                    yield from body
            finally:
                self._loop_level -= 1
                for name in aliases:
                    self._aliases.pop(name, None)
            for recv, mode, line in _flag_writes(stmt):
                yield _Event("mode", line, recv, mode)
            yield from self.events(stmt.orelse, depth)
            return
        if isinstance(stmt, ast.If):
            yield from self._expr_events(stmt, depth)
            if _terminates(stmt.body):
                # if args.eval_only: evaluate(model); return -- what the branch does to modes
                # does not reach the statements after the if ("branch" ... "merge")
                yield _Event("branch", stmt.lineno)
                yield from self.events(stmt.body, depth)
                yield _Event("merge", stmt.end_lineno or stmt.lineno)
            else:
                yield from self.events(stmt.body, depth)
            yield from self.events(stmt.orelse, depth)
            return
        if isinstance(stmt, (ast.With, ast.AsyncWith)):
            wrapped = []
            for item in stmt.items:
                name = dotted(item.context_expr.func) if isinstance(item.context_expr, ast.Call) \
                    else None
                if name and name.rsplit(".", 1)[-1] in _MODEGUARD_CTX:
                    wrapped.append(item)
            yield from self._expr_events(stmt, depth)
            own = [(recv, mode) for item in stmt.items
                   for recv, mode in self._context_modes(item.context_expr)]
            if own:
                # with eval_mode_of(net): a context manager of this file that switches the
                # models handed to it before its yield and gives their modes back after
                for recv, mode in own:
                    yield _Event("mode", stmt.lineno, recv, mode)
                self._guarded += 1  # a return in the body still restores
                try:
                    yield from self.events(stmt.body, depth)
                finally:
                    self._guarded -= 1
                for recv, _ in own:
                    # (after the block: on the line that follows it)
                    yield _Event("mode", (stmt.end_lineno or stmt.lineno) + 1, recv, RESTORED)
                return
            if wrapped:
                # inside a modeguard context modes are managed and restored: skip mode events
                for ev in self.events(stmt.body, depth):
                    if ev.kind != "mode":
                        yield ev
                return
            yield from self.events(stmt.body, depth)
            return
        if isinstance(stmt, ast.Try) or type(stmt).__name__ == "TryStar":
            guarded = bool(stmt.finalbody)  # type: ignore[attr-defined]
            self._guarded += guarded  # a return in the body still runs the finally block
            try:
                yield from self.events(stmt.body, depth)  # type: ignore[attr-defined]
                for h in stmt.handlers:  # type: ignore[attr-defined]
                    yield from self.events(h.body, depth)
                yield from self.events(stmt.orelse, depth)  # type: ignore[attr-defined]
            finally:
                self._guarded -= guarded
            yield from self.events(stmt.finalbody, depth)  # type: ignore[attr-defined]
            return
        yield from self._expr_events(stmt, depth)
        if isinstance(stmt, ast.Return) and not self._guarded:
            yield _Event("return", stmt.lineno)  # an early exit leaves the modes it has
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and \
                isinstance(stmt.value, ast.Call):
            value = stmt.value
            recv = _receiver(stmt.targets[0])
            if isinstance(stmt.targets[0], ast.Tuple) and depth < 4:
                # image_tower, text_tower = load_towers(...): the mode of each returned item
                found = self._callee_summary(value)
                for elt, item in zip(stmt.targets[0].elts,
                                     found[0].returns_items if found else ()):
                    if item is not None and (name := _receiver(elt)) is not None:
                        yield _Event("mode", item[1], name, item[0], via=stmt.lineno,
                                     path="" if item[2] == self.src.path else item[2])
                return
            chained = None  # the last mode the chain sets: copy.deepcopy(net).eval()
            while isinstance(value.func, ast.Attribute) and value.func.attr in _CHAINABLE and \
                    isinstance(value.func.value, ast.Call):
                if chained is None and value.func.attr in ("eval", "train"):
                    chained = (_mode_call(ast.Call(func=ast.Attribute(
                        value=ast.Name(id="_"), attr=value.func.attr), args=value.args,
                        keywords=value.keywords)) or ("", ""))[1] or None
                value = value.func.value  # load(path).to(device)
            if recv is None:
                return
            if chained is None and (dotted(value.func) or "").rsplit(".", 1)[-1] == "deepcopy" \
                    and value.args and (source := _receiver(value.args[0])) is not None:
                # ref = copy.deepcopy(policy): the copy has the mode policy has now
                yield _Event("copy", stmt.lineno, recv, source)
                return
            if chained in (EVAL, TRAIN):
                # a copy (copy.deepcopy(net).eval(): a snapshot or an EMA) is a new model
                copy = (dotted(value.func) or "").rsplit(".", 1)[-1] in ("deepcopy", "copy")
                yield _Event("mode", stmt.lineno, recv, chained, copy=copy)
                return
            if depth < 4 and "." not in recv.replace("self.", "", 1) and \
                    dotted(value.func) in self.classes:
                # obj = Wrapper(net), Wrapper a class of this file: what its __init__ does to
                # its own attributes (self.shadow = copy.deepcopy(net).eval()) happens to obj's
                found = self._class_of_call(value.func, True, 0)
                init = found[0].summary(f"{found[1]}.__init__") if found else None
                for attr, (mode, line, path) in (init.effects.items() if init else ()):
                    if attr.startswith("self."):
                        yield _Event("mode", line, recv + attr[4:], mode, via=stmt.lineno,
                                     path="" if path == self.src.path else path)
            if isinstance(value.func, ast.Attribute) and value.func.attr == "from_pretrained":
                # Hugging Face (transformers, diffusers) from_pretrained() returns the model in
                # eval mode: as if the script had called eval() itself
                yield _Event("mode", stmt.lineno, recv, EVAL, implicit=True)
                return
            found = self._callee_summary(value, assigned=True) if depth < 4 else None
            for line, path in found[0].returns_freezes if found is not None else ():
                # model = build_detector(...): its BatchNorm layers come out frozen
                yield _Event("mode", line, f"{recv}.<bn>", EVAL, via=stmt.lineno,
                             path="" if path == self.src.path else path)
            if found is not None and found[0].returns is not None:
                # model = load_model(path), where load_model() ends with model.eval()
                mode, line, path = found[0].returns
                yield _Event("mode", line, recv, mode, via=stmt.lineno,
                             path="" if path == self.src.path else path)

    def _context_modes(self, expr: ast.expr) -> list[tuple[str, str]]:
        """``frozen(net, ema)``, a ``@contextmanager`` of this file whose code before the
        ``yield`` calls eval() (or train()) on its parameters and whose code after it calls
        train(...) again: ``[("net", EVAL), ("ema", EVAL)]``."""
        if not isinstance(expr, ast.Call) or not isinstance(expr.func, ast.Name):
            return []
        func = self.functions.get(expr.func.id)
        if func is None or not any((dotted(d) or "").endswith("contextmanager")
                                   for d in func.decorator_list):
            return []
        yields = [n.lineno for n in self.src.within(func, ast.Yield)]
        if len(yields) != 1:
            return []
        params = [a.arg for a in func.args.args]
        star = func.args.vararg.arg if func.args.vararg else None
        names = set(params) | {star} if star else set(params)
        before, after = None, False
        for call in self.src.within(func, ast.Call):
            mode = _mode_call(call)
            if mode is None:
                continue
            if call.lineno > yields[0]:
                after = True  # for net, was in zip(nets, saved): net.train(was)
                continue
            head = mode[0].split(".", 1)[0]
            loops = [loop for loop in self.src.within(func, ast.For)
                     if loop.lineno <= call.lineno <= (loop.end_lineno or 0)]
            over = {_head(loop.iter) for loop in loops}  # for n in nets: n.eval()
            if head not in names and not over & names:
                continue
            before = before or mode[1]
        if before not in (EVAL, TRAIN) or not after:
            return []
        out = []
        for i, arg in enumerate(expr.args):
            recv = _receiver(arg)
            if recv is not None and (i < len(params) or star):
                out.append((recv, before))
        return out

    def _expr_events(self, stmt: ast.stmt, depth: int) -> Iterator[_Event]:
        """Events of the calls in a statement's own expressions (a compound statement's
        header: an ``if`` test, a ``for`` iterable, ``with`` items)."""
        calls = self.stmt_calls.get(id(stmt), ())
        for call in calls:  # sorted: inner calls (arguments) run before outer ones
            mode = _mode_call(call)
            if mode is not None:
                head, dot, rest = mode[0].partition(".")
                for target in self._aliases.get(head, (head,)):  # for m in (a, b): m.eval()
                    yield _Event("mode", call.lineno, target + dot + rest, mode[1])
                    for inner in self.contained(target + dot + rest):
                        yield _Event("mode", call.lineno, inner, mode[1])
                continue
            if _is_step(call):
                yield _Event("step", call.lineno)
                continue
            if isinstance(call.func, ast.Attribute) and call.func.attr == "apply" and \
                    len(call.args) == 1 and isinstance(call.args[0], ast.Name):
                # model.apply(set_bn_eval): the BatchNorm freezes of that function (of this
                # file, or imported from another linted file), under model
                recv = _receiver(call.func.value)
                where = self._function_of(call.args[0].id)
                if where is not None and recv is not None:
                    owner, func = where
                    lines = {line for _, line in owner.freezes}
                    path = "" if owner is self else owner.src.path
                    for sub in owner.src.within(func, ast.Call):
                        if sub.lineno in lines:
                            yield _Event("mode", sub.lineno, recv + ".<bn>", EVAL,
                                         via=call.lineno, path=path)
                    continue
            if _is_backward(call):
                yield _Event("backward", call.lineno)
                continue
            found = self._callee_summary(call) if depth < 4 else None
            if found is not None:
                summary, prefix = found
                mapping = self._arg_map(call, summary)

                def effects(modes: dict[str, tuple[str, int, str]]) -> Iterator[_Event]:
                    for recv, (mode, line, path) in modes.items():
                        if prefix and recv.startswith("self."):
                            target = prefix + recv[4:]  # self.img_enc -> model.img_enc
                        else:
                            target = mapping.get(recv, recv)
                        yield _Event("mode", line, target, mode, via=call.lineno,
                                     path="" if path == self.src.path else path)

                if summary.steps and not self._steps_off(call, summary):
                    # the modes its step sees, the step, then where it leaves them
                    yield from effects(summary.at_step)
                    spared = frozenset(
                        prefix + r[4:] if prefix and r.startswith("self.") else
                        mapping.get(r.split(".", 1)[0], "\0") + r[len(r.split(".", 1)[0]):]
                        for r in summary.spared)
                    yield _Event("step", call.lineno, spared=spared, reach=_handed(call))
                elif summary.backward:
                    yield _Event("backward", call.lineno)  # apply_backward(loss, scaler)
                if summary.freezes:
                    # freeze_bn_statistics(model.encoder), from this file or another: the
                    # BatchNorm layers under the argument (or the receiver) are frozen
                    target = prefix or next((r for a in call.args
                                             if (r := _receiver(a)) is not None), None)
                    for line, path in summary.freezes if target else ():
                        yield _Event("mode", line, f"{target}.<bn>", EVAL, via=call.lineno,
                                     path="" if path == self.src.path else path)
                for recv, line, path, under in summary.evaluates:
                    if path != self.src.path:  # same-file callees are judged where they are
                        head, dot, rest = recv.partition(".")
                        target = mapping.get(head)
                        if target is not None:
                            yield _Event("evaluates", line, target + dot + rest,
                                         "no_grad" if under else "", via=call.lineno, path=path)
                yield from effects(summary.effects)
                continue
            recv = _receiver(call.func)
            if recv is not None and recv.split(".", 1)[0] not in self.not_models and not (
                    isinstance(call.func, ast.Attribute) and (
                        _NOT_FORWARD.match(call.func.attr) or call.func.attr in _CHAINABLE)):
                yield _Event("forward", call.lineno, recv)

    # ------------------------------------------------------------ call resolution

    def _callee_summary(self, call: ast.Call,
                        assigned: bool = False) -> tuple[Summary, str] | None:
        """The summary of the called function, and the receiver that ``self`` stands for.
        ``assigned``: the call's result is assigned (``net = build(...)``), so a factory in
        another file that gives a new module its weights is worth reading too."""
        name = _callee(call)
        if name is not None:
            local = self.summary(name)
            if local is not None:
                return local, ""
            if "." not in name and self.project is not None:
                qualified = self.src.imports.names.get(name)
                if qualified:
                    # an evaluation function is worth reading even if it changes no mode
                    kind: bool | str = "eval" if _EVAL_SCOPE.match(name) else \
                        "factory" if assigned else "mode"
                    if kind == "factory" and self.project.builds_module(qualified,
                                                                        self.src.module):
                        kind = False  # net = make_model(hp): read it whatever its file holds
                    target = self.project.resolve(qualified, flow=kind, near=self.src.module)
                    if target is not None and target[0] is not self:
                        other = target[0].summary(target[1])
                        if other is not None:
                            return other, ""
        func = call.func
        word = re.search(r"(evaluator|validator|tester)$", name or "", re.I)
        if word and self.project is not None and name not in self.functions and \
                not self.src.imports.names.get(name or ""):
            # self.evaluator(self.model): the project's one ...Evaluator class with __call__
            hit = self.project.callable_class(word.group(1).lower(), self.src.module)
            if hit is not None:
                summary = hit[0].summary(hit[1])
                if summary is not None:
                    return summary, ""
        if isinstance(func, ast.Attribute):
            recv = dotted(func.value)
            found = self.type_of(recv, flow=True) if recv is not None else None
            if found is not None:
                model, cls = found
                summary = model.summary(f"{cls}.{func.attr}")
                if summary is not None:
                    return summary, recv
            if recv is not None and recv != "self" and \
                    recv.split(".", 1)[0] not in self.not_models:
                # a receiver of unknown type calling a method that one class of this file
                # defines (model.freeze() with a parameter `model`, agent.update(batch) with
                # an agent built elsewhere): that class's method
                owners = self.method_owners.get(func.attr, ())
                if len(owners) == 1 and not func.attr.startswith("__") and (
                        _MODELISH.search(recv) or
                        self._mode_text(self.methods[f"{owners[0]}.{func.attr}"])):
                    summary = self.summary(f"{owners[0]}.{func.attr}")
                    if summary is not None:
                        return summary, recv
                elif not owners and self.project is not None and (
                        _EVAL_SCOPE.match(func.attr) and
                        re.search(r"(evaluator|validator|tester|evaluation)s?$", recv, re.I) or
                        _FREEZE_TEXT.search(func.attr)):
                    # (and self.backbone.freeze_norm_stats(): the one class of the project
                    # with that freezing method)
                    # evaluator.evaluate(model, loader): the one class of the project that
                    # has an evaluate() method (an evaluator object built in another file)
                    found_method = self.project.method_owner(func.attr, self.src.module)
                    if found_method is not None:
                        summary = found_method[0].summary(found_method[1])
                        if summary is not None:
                            return summary, recv
        return None

    def _function_of(self, name: str) -> tuple[Any, ast.AST] | None:
        """The function a plain name stands for: one of this file, or one imported from
        another linted file that freezes BatchNorm layers; (its FileModel, its node)."""
        if name in self.functions:
            return (self, self.functions[name]) if self.freezes else None
        qualified = self.src.imports.names.get(name)
        if not qualified or self.project is None:
            return None
        target = self.project.resolve(qualified, flow=True, near=self.src.module)
        if target is None or not target[0].freezes or target[1] not in target[0].functions:
            return None
        return target[0], target[0].functions[target[1]]

    def _mode_text(self, func: ast.AST) -> bool:
        """The function's own text can change a mode, step or evaluate (a cheap test before a
        call on a receiver of unknown type is resolved to it by its method name alone)."""
        text = self.src.text_of(func)
        return any(t in text for t in (".eval(", ".train(", ".step(", ".backward(", "no_grad",
                                       "inference_mode", "freez"))

    def contained(self, recv: str) -> list[str]:
        """The models a container was built from (``pair = DistillPair(teacher, student)``,
        ``nn.Sequential(backbone, head)``, ``DDP(net)``): its train()/eval() switches them."""
        if self._contains is None:
            self._contains = {}
            for node in self.src.of(ast.Assign):
                value = node.value
                value = _strip_chain(value)  # Net(...).to(device): the innermost call
                if len(node.targets) != 1 or not isinstance(value, ast.Call):
                    continue
                target = dotted(node.targets[0])
                name = (dotted(value.func) or "").rsplit(".", 1)[-1]
                if target is None or not (name in _CONTAINERS or self._stores_arguments(value)):
                    continue
                parts = [*value.args, *(k.value for k in value.keywords)]
                parts += [e for p in parts if isinstance(p, (ast.List, ast.Tuple)) for e in p.elts]
                inner = [r for p in parts if (r := _receiver(p)) is not None and r != target]
                if inner:
                    self._contains.setdefault(target, []).extend(inner)
        return self._contains.get(recv, [])

    def _stores_arguments(self, call: ast.Call) -> bool:
        """``call`` builds a project nn.Module that keeps its arguments as attributes."""
        from modeguard.lint.astutil import looks_like_module

        if dotted(call.func) not in self.classes:
            return False  # classes of this file only: other files are not parsed for this
        found = self._class_of_call(call.func, True, 0)
        if found is None:
            return False
        where, cls_name = found
        cls = next((c for c in where.src.tree.body if isinstance(c, ast.ClassDef) and
                    c.name == cls_name), None)
        init = next((m for m in cls.body if isinstance(m, ast.FunctionDef) and
                     m.name == "__init__"), None) if cls is not None else None
        if init is None or not looks_like_module(cls):
            return False
        params = {a.arg for a in init.args.args[1:] + init.args.kwonlyargs}
        return any(isinstance(a.value, ast.Name) and a.value.id in params and
                   any(dotted(t) == f"self.{t.attr}" for t in a.targets
                       if isinstance(t, ast.Attribute))
                   for a in where.src.within(init, ast.Assign))

    def sensitive(self, recv: str) -> bool | None:
        """Whether the receiver's class (if known) has mode-sensitive layers; None: unknown."""
        found = self.type_of(recv)
        if found is None:
            # a single torch.nn layer that behaves the same in both modes (model = nn.Linear(...))
            func = (self._types or {}).get(recv)
            name = (self.src.imports.resolve(func) or "") if func is not None else ""
            if name.startswith("torch.nn.") and name.count(".") == 2 and \
                    name.rsplit(".", 1)[1] in _MODE_FREE_LAYERS:
                return False
            return None
        model, cls = found
        return model.class_sensitive(cls, set())

    def class_sensitive(self, cls: str, seen: set[tuple[int, str]]) -> bool | None:
        """True if the class (defined in this file) builds dropout/BatchNorm/... layers, reads
        ``self.training`` or calls functional dropout; False if everything it builds is known
        and mode-free; None when something it builds is unknown."""
        key = (id(self), cls)
        if key in seen:
            return False
        if not seen and cls in self._sensitive:
            return self._sensitive[cls]
        top = not seen
        seen.add(key)
        verdict = self._class_sensitive(cls, seen)
        if top:
            self._sensitive[cls] = verdict
        return verdict

    def _class_sensitive(self, cls: str, seen: set[tuple[int, str]]) -> bool | None:
        node = next((n for n in self.src.tree.body
                     if isinstance(n, ast.ClassDef) and n.name == cls), None)
        if node is None:
            return None
        verdict: bool | None = False
        if any(a.attr == "training" for a in self.src.within(node, ast.Attribute)):
            return True
        # names bound inside the class (loop variables, parameters): calling them runs a
        # layer built elsewhere in the class, or a function handed in
        bound = {t.id for loop in self.src.within(node, ast.For)
                 for t in ast.walk(loop.target) if isinstance(t, ast.Name)} | \
            {a.arg for f in self.src.within(node, ast.FunctionDef)
             for a in f.args.args + f.args.kwonlyargs}
        for sub in self.src.within(node, ast.Call):
            name = self.src.imports.resolve(sub.func) or ""
            tail = name.rsplit(".", 1)[-1]
            # a class of the linted project is judged by its body, not by its name
            target = self.project.resolve(name, near=self.src.module) \
                if name not in self.classes and self.project is not None and "." in name and \
                not name.startswith(("torch.", "nn.")) else None
            if target is not None and target[1] not in target[0].classes:
                target = None
            if name not in self.classes and target is None and (
                    _SENSITIVE_LAYER.match(tail) or tail in (
                        "dropout", "dropout2d", "alpha_dropout", "scaled_dot_product_attention")):
                if tail.startswith("InstanceNorm") and not any(
                        k.arg == "track_running_stats" for k in sub.keywords):
                    continue
                if tail in ("LSTM", "GRU", "RNN") and not any(k.arg == "dropout"
                                                               for k in sub.keywords):
                    continue
                return True
            if name.startswith(("torch.", "nn.") + _PLAIN_LIBRARIES) or name in _NEUTRAL_CALLS or \
                    isinstance(sub.func, ast.Attribute) and dotted(sub.func.value) in (
                        "self", "super()") or (isinstance(sub.func, ast.Attribute)
                                               and isinstance(sub.func.value, ast.Call)):
                continue
            if isinstance(sub.func, ast.Subscript) or isinstance(sub.func, ast.Name) and \
                    sub.func.id in bound:
                continue  # self.blocks[i](x), layer(x) in a loop: runs what was built elsewhere
            raw = dotted(sub.func) or ""
            if "." in raw and raw.split(".", 1)[0] not in self.src.imports.names and \
                    raw.split(".", 1)[0] not in self.classes or \
                    not raw and isinstance(sub.func, ast.Attribute):
                continue  # a method of a value (x.new_zeros(...), w[0].numel()), not a layer
            if name in self.classes:
                inner = self.class_sensitive(name, seen)
            elif target is not None:
                inner = target[0].class_sensitive(target[1], seen)
            else:
                inner = None
            if inner:
                return True
            if inner is None:
                verdict = None
        return verdict

    def type_of(self, recv: str, flow: bool = False) -> tuple[Any, str] | None:
        """The project class a receiver was built from (``model = VSE(opt)``): (FileModel of
        the class's file, class name), or None. Flow-insensitive; resolved on demand."""
        if self._types is None:
            self._types = {}
            for node in self.src.of(ast.Assign):
                value = node.value
                value = _strip_chain(value)  # Net(...).to(device): the innermost call
                if isinstance(value, ast.Call) and len(node.targets) == 1:
                    target = dotted(node.targets[0])
                    if target is not None:
                        self._types.setdefault(target, value.func)
        func = self._types.get(recv)
        if func is None:
            return None
        return self._class_of_call(func, flow, depth=0)

    @cached_property
    def switched(self) -> set[str]:
        """The names whose train()/eval() this file calls (``clf.train()``): models, whatever
        they are called."""
        return {m[0].split(".", 1)[0] for c in self.src.of(ast.Call)
                if isinstance(c.func, ast.Attribute) and c.func.attr in ("train", "eval")
                and (m := _mode_call(c)) is not None}

    def without_gradients(self, recv: str) -> bool:
        """Its parameters do not require gradients (``net.requires_grad_(False)``, chained or
        not, or ``p.requires_grad = False`` over ``net.parameters()``): no graph is built."""
        text = self.src.source
        head = recv.split(".", 1)[0]
        if ".requires_grad_(False)" in text and re.search(
                rf"\b{re.escape(head)}(\.\w+\([^()]*\))*\.requires_grad_\(False\)", text):
            return True  # net.eval().requires_grad_(False).to(device)
        if "requires_grad" not in text:
            return False
        for loop in self.src.of(ast.For):  # for m in (vae, text_encoder): m.requires_grad_(False)
            for var, names in _loop_aliases(loop).items():
                if head in names and re.search(
                        rf"\b{re.escape(var)}(\.\w+\([^()]*\))*\.requires_grad_\(False\)",
                        self.src.text_of(loop)):
                    return True
        return any(isinstance(loop.iter, ast.Call) and dotted(loop.iter.func) in (
            f"{head}.parameters", f"{head}.named_parameters") and re.search(
                r"requires_grad(\s*=\s*|_\()False", self.src.text_of(loop))
                   for loop in self.src.of(ast.For)) or any(
            ".requires_grad_(False)" in self.src.text_of(a) for a in self.src.of(ast.Assign)
            if any(dotted(t) == head for t in a.targets))

    def foreign(self, recv: str) -> bool:
        """The receiver was built by a library callable that returns no ``nn.Module`` (a
        torchaudio CTC beam decoder, an ONNX Runtime session, a scikit-learn estimator)."""
        self.type_of(recv)  # builds the assignment table
        func = (self._types or {}).get(recv)
        qualified = self.src.imports.resolve(func) if func is not None else None
        return bool(qualified) and qualified.startswith(_FOREIGN)  # type: ignore[union-attr]

    def _class_of_call(self, func: ast.expr, flow: bool, depth: int) -> tuple[Any, str] | None:
        """The project class a call builds: ``Net(...)`` directly, or a project function
        (``build_model(...)``) whose every ``return`` builds the same class."""
        name = dotted(func)
        if name is None or depth > 3:
            return None
        if name in self.classes:
            return self, name
        if name in self.functions:
            return self._returned_class(self.functions[name], flow, depth)
        project = self.project or (self.class_project if flow else None)
        if project is None:
            return None
        qualified = self.src.imports.resolve(func)
        if not qualified or "." not in qualified:
            return None
        found = project.resolve(qualified, flow=flow, near=self.src.module)
        if found is None:
            return None
        model, target = found
        if target in model.classes:
            return found
        if target in model.functions:
            return model._returned_class(model.functions[target], flow, depth)
        return None

    def _returned_class(self, func: ast.AST, flow: bool, depth: int) -> tuple[Any, str] | None:
        results = set()
        last: tuple[Any, str] | None = None
        for node in self.src.within(func, ast.Return):
            if not isinstance(node.value, ast.Call):
                return None
            found = self._class_of_call(node.value.func, flow, depth + 1)
            if found is None:
                return None
            results.add((id(found[0]), found[1]))
            last = found
        return last if len(results) == 1 else None

    @staticmethod
    def _arg_map(call: ast.Call, summary: Summary) -> dict[str, str]:
        out = {}
        for param, value in zip(summary.params, call.args):
            name = _receiver(value)
            if name is not None:
                out[param] = name
        for kw in call.keywords:
            if kw.arg in summary.params:
                name = _receiver(kw.value)
                if name is not None:
                    out[kw.arg] = name
        return out


# ------------------------------------------------------------------ MG101


# what putting a model in eval mode looks like in text (a call, a loader, a flag written by hand)
_EVAL_MODE_TEXT = re.compile(r"\.eval\(\)|\.train\((mode\s*=\s*)?False\)|from_pretrained\(|"
                             r"\.training\s*=")


def _may_evaluate(model: FileModel) -> bool:
    """Whether anything can put a model in eval mode in this file's flow: an ``eval()``
    (``train(False)``, ``from_pretrained()``, a flag written by hand) here, or in a linted file
    one of its calls resolves into (a cheap text test before any flow is computed)."""
    src = model.src
    if _EVAL_MODE_TEXT.search(src.source):
        return True
    if model.project is None:
        return False
    if re.search(r"(evaluator|validator|tester)s?\b", src.source, re.I):
        return True  # self.evaluator(self.model): an object of a class found project-wide
    imports = src.imports
    names = {imports.resolve(c.func) for c in src.of(ast.Call) if _head(c.func) in imports.names}
    return any(model.project.mentions(q, _EVAL_MODE_TEXT, near=src.module)
               for q in names if q and "." in q)


def _mg101(model: FileModel, scopes: list[tuple[str, list[ast.stmt]]]) -> Iterator[Finding]:
    src = model.src
    hooks = _training_hooks(model)
    if not hooks and not model.may_step():
        return  # no training step anywhere: nothing for an eval() to leak into
    if not _may_evaluate(model):
        return  # no eval() here nor in the linted files it calls into: nothing to leak
    reported: set[tuple[str, int]] = {("", line) for _, line in model.freezes}  # MG301's
    for scope_name, body in scopes:
        # recv -> (mode, line, via, path, index of the event)
        state: dict[str, tuple[str, int, int, str, int]] = {}
        events = model.events(body)
        if scope_name in hooks:  # training goes on when the hook returns
            events = events + [_Event("step", hooks[scope_name], recv="<hook>")]
        saved: list[dict[str, tuple[str, int, int, str, int]]] = []
        for i, ev in enumerate(events):
            if ev.kind == "branch":
                saved.append(dict(state))
            elif ev.kind == "merge" and saved:
                state = saved.pop()  # the branch returned: its modes stay behind
            elif ev.kind == "mode":
                _set_mode(state, ev.recv, (ev.mode, ev.line, ev.via, ev.path, i))
            elif ev.kind == "step":
                for recv, (mode, line, via, path, at) in list(state.items()):
                    if mode != EVAL or (path, line) in reported:
                        continue
                    known = model.sensitive(recv)
                    if recv in model.pinned or _AVERAGED.search(recv):
                        continue  # pinned by modeguard, or an EMA/SWA copy (never stepped)
                    if known is False:
                        continue  # its class has no mode-sensitive layer: the mode is harmless
                    if known is None and not _MODELISH.search(recv) and \
                            not _trained_somewhere(model, recv):
                        continue
                    implicit = events[at].implicit
                    if events[at].copy:
                        continue  # a snapshot or averaged copy made in eval mode
                    if recv in ev.spared or not via and not path and _frozen_here(model, recv,
                                                                                 line):
                        continue  # a teacher the training function only runs without gradients
                    if model.without_gradients(recv) and _never_trained(model, recv):
                        continue  # frozen for good: requires_grad_(False) and never trained
                    if ev.reach is not None and _out_of_reach(model, scope_name, body, recv,
                                                              ev.reach):
                        continue  # a model of this function the stepping call is not handed
                    if not path and not implicit and ev.recv != "<hook>" and \
                            not _trained_somewhere(model, recv) and (
                            not via and _outside_loops(src, body, line) and not any(
                                e.kind == "forward" and e.recv == recv and
                                _outside_loops(src, body, e.line) for e in events[at + 1:i])
                            or via and _eval_before_own_loop(model, line)):
                        # eval() once, right before the training loop (here, or in the training
                        # function called here), and train() nowhere: the whole model trains in
                        # eval mode on purpose (frozen BatchNorm, a linear probe)
                        continue
                    reported.add((path, line))
                    related = [Location(src.path, ev.line, 0, "training step at")]
                    if via:
                        related.append(Location(src.path, via, 0, "reached through the call at"))
                    where = path or src.path
                    after = ("the end of this training hook (training goes on)"
                             if ev.recv == "<hook>" else "the training step at " +
                             (f"line {ev.line}" if not path else f"{src.path}:{ev.line}"))
                    what = (f"{recv} comes out of from_pretrained() in eval mode and is not "
                            "switched to train()" if implicit else f"{recv}.eval() here is not "
                            "undone")
                    yield Finding(
                        "MG101",
                        f"{what} before {after}"
                        ": training continues with dropout off and BatchNorm frozen",
                        path=where, line=line, col=0, related=tuple(related),
                        # the model's class unknown: reported, one step less severe
                        severity=None if known else Severity.WARNING,
                        hint=f"call {recv}.train() at the top of each training step, or restore "
                             f"the previous mode after evaluating (was = {recv}.training ... "
                             f"{recv}.train(was), or modeguard.inference({recv}))")


def _handed(call: ast.Call) -> frozenset[str]:
    """The names a call can reach: its receiver's and its arguments' (``fit(net.parameters())``,
    ``trainer.fit()``)."""
    names = {n.id for part in [call.func, *call.args, *(k.value for k in call.keywords)]
             for n in ast.walk(part) if isinstance(n, ast.Name)}
    return frozenset(names)


def _out_of_reach(model: FileModel, scope: str, body: list[ast.stmt], recv: str,
                  reach: frozenset[str]) -> bool:
    """``recv`` is a local of the function ``scope`` (a parameter or a name it assigns) that
    the stepping call is not handed, and that no call this file cannot follow is handed either
    (``Trainer(net)`` could keep it): the step trains something else (``extract(encoder)``, then
    ``fit_probe(features)``)."""
    head = recv.split(".", 1)[0]
    if head in reach or head == "self" or scope == "<module>":
        return False
    func = model.scope_lookup.get(scope)
    if func is None:
        return False
    bound = {a.arg for a in func.args.args + func.args.kwonlyargs} | {
        n.id for kind, field in ((ast.Assign, "targets"), (ast.For, "target"))
        for node in model.src.within(func, kind) for t in _as_list(getattr(node, field))
        for n in ast.walk(t) if isinstance(n, ast.Name)}  # net, score = fit(...) too
    if head not in bound:
        return False  # a global: any function can train it
    for stmt in body:
        for call in model.src.within(stmt, ast.Call):
            if _mode_call(call) is not None or dotted(call.func) == recv or \
                    (dotted(call.func) or "").rsplit(".", 1)[-1] in _KEEPS_NOTHING:
                continue  # (torch.save(net.state_dict(), ...), print(net): nothing kept)
            if head in _handed(call) and (dotted(call.func) or "").split(".", 1)[0] != head \
                    and model._callee_summary(call) is None:
                return False  # handed to something that may keep it
    return True


# calls that keep no reference to the models handed to them
_KEEPS_NOTHING = frozenset({"save", "print", "state_dict", "info", "debug", "warning", "log",
                            "write", "format", "len", "str", "repr", "isinstance", "id"})


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _owner_function(model: FileModel, line: int) -> ast.AST | None:
    """The innermost function or method of the file around ``line``."""
    owners = [f for _, f in model.scope_functions
              if f.lineno <= line <= (f.end_lineno or f.lineno)]
    return min(owners, key=lambda f: (f.end_lineno or f.lineno) - f.lineno) if owners else None


_OPTIMIZER_CLASS = re.compile(r"^(SGD|Adam\w*|RMSprop|Adagrad|Adadelta|Adamax|LBFGS|Lion|"
                              r"LAMB|Lamb|LARS|Lars|\w*Optimi[sz]er\w*)$")
_TRAINING_CALL = re.compile(r"(optim|(?<!pre)train|fit|schedul)", re.I)
_AVERAGING_CALL = re.compile(r"(ema|momentum|moving|averag|polyak|soft_update|sync|lerp)", re.I)


def _untrained_teacher(model: FileModel, func: ast.AST, recv: str) -> bool:
    """``recv`` is a teacher: the training function runs it only without gradients, and the
    file never trains it (no ``train()``, no optimizer over its parameters) nor averages
    weights into it (EMA, momentum or target-network updates, which keep such copies in
    training mode on purpose)."""
    return not _AVERAGED.search(recv) and model.only_without_grad(func, recv) and \
        _never_trained(model, recv)


def _never_trained(model: FileModel, recv: str) -> bool:
    """The file never trains ``recv`` (no ``train()``, no optimizer over its parameters) nor
    averages weights into it (EMA, momentum or target-network updates)."""
    src = model.src
    text = src.source
    if f"{recv}.train(" in text:
        return False
    uses = text.count(f"{recv}.parameters()") + text.count(f"{recv}.named_parameters()")
    freezes = sum(1 for loop in src.of(ast.For)
                  if (dotted(loop.iter.func) if isinstance(loop.iter, ast.Call) else "") in
                  (f"{recv}.parameters", f"{recv}.named_parameters") and
                  "requires_grad" in src.text_of(loop))
    if uses > freezes:
        return False  # its parameters go somewhere else than a freeze: an optimizer, an EMA
    for call in src.of(ast.Call):
        name = (dotted(call.func) or "").rsplit(".", 1)[-1]
        handed = any((dotted(a) or "") == recv or (dotted(a) or "").startswith(recv + ".")
                     for a in [*call.args, *(k.value for k in call.keywords)])
        if _OPTIMIZER_CLASS.match(name) and recv + "." in src.text_of(call):
            return False  # trained
        if handed and (_AVERAGING_CALL.search(name) or _TRAINING_CALL.search(name)):
            return False  # momentum_update(teacher, student), build_optimizer(generator)
        if name == "load_state_dict" and dotted(call.func) == f"{recv}.load_state_dict" and \
                any(isinstance(a, ast.Call) and (dotted(a.func) or "").endswith("state_dict")
                    for a in call.args):
            return False  # target_net.load_state_dict(policy_net.state_dict())
    return True


def _frozen_here(model: FileModel, recv: str, line: int) -> bool:
    """The eval() at ``line`` sits in a training function that runs ``recv`` only without
    gradients (``teacher.eval()`` at the top of a distillation epoch)."""
    func = _owner_function(model, line)
    return func is not None and model.only_without_grad(func, recv)


def _eval_before_own_loop(model: FileModel, line: int) -> bool:
    """Whether the eval() at ``line`` sits in a function that steps the optimizer itself,
    outside that function's loops (``def train(...): model.eval(); for x, y in loader: ...``)."""
    func = _owner_function(model, line)
    if func is None:
        return False
    end = func.end_lineno or func.lineno
    return any(func.lineno <= n <= end and n > line for n in model.gradient_lines) and \
        _outside_loops(model.src, func.body, line)


def _trained_somewhere(model: FileModel, recv: str) -> bool:
    """Whether the file calls ``recv.train()`` anywhere (text first: most files do not)."""
    if f"{recv}.train(" not in model.src.source:
        return False
    return any((_mode_call(c) or ("", ""))[0] == recv for c in model.src.of(ast.Call)
               if isinstance(c.func, ast.Attribute) and c.func.attr == "train")


def _outside_loops(src: SourceFile, body: list[ast.stmt], line: int) -> bool:
    return not any(loop.lineno <= line <= (loop.end_lineno or loop.lineno)
                   for stmt in body for kind in (ast.For, ast.AsyncFor, ast.While)
                   for loop in src.within(stmt, kind))


# hooks a training framework calls while training goes on (Lightning restores the modes around
# validation, test and predict loops itself, so their hooks are not in this list)
_TRAINING_HOOK = re.compile(r"^(on_(train_|before_|after_backward|fit_start|epoch_|batch_|step_|"
                            r"iter_|iteration_)|(before|after)_(train_)?(step|iter|iteration|"
                            r"batch)$)")


def _training_hooks(model: FileModel) -> dict[str, int]:
    """``{"self.on_train_epoch_end": last line}`` for the training-time hooks of Lightning
    callbacks and modules defined in the file."""
    out: dict[str, int] = {name: func.end_lineno or func.lineno
                           for name, func in model.event_handlers}
    if "on_" not in model.src.source and "after_" not in model.src.source:
        return out
    for cls in model.src.of(ast.ClassDef):
        bases = [dotted(b) or "" for b in cls.bases]
        if not any(b.endswith(("Callback", "LightningModule", "Hook", "HookBase"))
                   for b in bases) or \
                any(b.endswith("TrainerCallback") for b in bases):
            continue  # (Hugging Face's Trainer calls model.train() in every training_step)
        for item in cls.body:
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and \
                    _TRAINING_HOOK.match(item.name):
                # the scope's name: self.hook, or Class.hook when an earlier class has it too
                key = "self." + item.name if model.functions.get("self." + item.name) is item \
                    else f"{cls.name}.{item.name}"
                out[key] = item.end_lineno or item.lineno
    return out


# ------------------------------------------------------------------ MG102 / MG401


def _grad_off(expr: ast.expr) -> bool:
    """``torch.no_grad()``, ``torch.inference_mode()``, a project's wrapper of them
    (``smart_inference_mode()``), ``torch.set_grad_enabled(False)``."""
    name = (dotted(expr.func if isinstance(expr, ast.Call) else expr) or "").rsplit(".", 1)[-1]
    if name.endswith(("no_grad", "inference_mode")):
        return True
    return name == "set_grad_enabled" and isinstance(expr, ast.Call) and bool(expr.args) and \
        isinstance(expr.args[0], ast.Constant) and expr.args[0].value is False


def _decorated_no_grad(func: ast.AST) -> bool:
    for d in getattr(func, "decorator_list", []):
        name = dotted(d.func if isinstance(d, ast.Call) else d) or ""
        if _grad_off(d) or name.rsplit(".", 1)[-1] in _NO_GRAD + _MODEGUARD_CTX:
            return True
    return False


def _is_no_grad_with(node: ast.With | ast.AsyncWith) -> bool:
    return any(_grad_off(item.context_expr) for item in node.items)


def _in_modeguard_ctx(src: SourceFile, func: ast.AST, line: int) -> bool:
    for node in src.within(func, ast.With) + src.within(func, ast.AsyncWith):
        if node.lineno <= line <= (node.end_lineno or node.lineno):
            for item in node.items:
                e = item.context_expr
                name = dotted(e.func if isinstance(e, ast.Call) else e) or ""
                if name.rsplit(".", 1)[-1] in _MODEGUARD_CTX:
                    return True
    return False


def _mg102_mg401(model: FileModel) -> Iterator[Finding]:
    src = model.src
    # computed on first use: most files have no evaluation scope at all
    lazy: dict[Any, Any] = {}

    def callers() -> dict[str, list[tuple[str, list[ast.stmt], ast.Call]]]:
        if "callers" not in lazy:
            lazy["callers"] = _call_sites(model)
        return lazy["callers"]

    def module_modes() -> dict[str, str]:
        if "modes" not in lazy:
            lazy["modes"] = {ev.recv: ev.mode for ev in model.events(src.tree.body)
                             if ev.kind == "mode"}
        return lazy["modes"]
    def owner_class(func: ast.AST) -> ast.ClassDef | None:
        owner = model.owner.get(id(func))
        return next((c for c in src.tree.body if isinstance(c, ast.ClassDef) and
                     c.name == owner), None) if owner is not None else None

    def in_module(func: ast.AST) -> bool:  # a method of an nn.Module-like class
        from modeguard.lint.astutil import looks_like_module

        cls, seen = owner_class(func), set()
        while cls is not None and cls.name not in seen:
            if looks_like_module(cls):
                return True
            seen.add(cls.name)  # class XAdapter(BaseAdapter), BaseAdapter(nn.Module) here
            bases = {dotted(b) for b in cls.bases}
            cls = next((c for c in src.tree.body if isinstance(c, ast.ClassDef) and
                        c.name in bases), None)
        return False

    def called_under_no_grad(name: str, seen: frozenset[str] = frozenset()) -> bool:
        """Every call of the function in this file runs under no_grad (``with
        torch.no_grad(): loss = validate(...)``), directly or through callers that are
        themselves only called under no_grad (``test()`` -> ``benchmark_all()`` ->
        ``validation()``): autograd is off inside it too."""
        sites = callers().get(name, [])
        lookup = model.scope_lookup
        for caller, _, call in sites:
            func = lookup.get(caller)
            if func is not None and _decorated_no_grad(func):
                continue
            if not any(w.lineno <= call.lineno <= (w.end_lineno or w.lineno)
                       for w in model.no_grad_withs) and not (
                    func is not None and caller not in seen and len(seen) < 8 and
                    called_under_no_grad(caller, seen | {name})):
                return False
        return bool(sites)

    def trains_itself(caller: str, body: list[ast.stmt]) -> bool:
        func = model.scope_lookup.get(caller)
        first = getattr(func, "lineno", 0) if func is not None else 0
        last = (getattr(func, "end_lineno", 0) or 0) if func is not None else 10**9
        return any(first <= n <= last for n in model.gradient_lines) or any(
            e.kind in ("step", "backward") for e in model.events(body))

    def reaches_training(name: str, seen: frozenset[str] = frozenset()) -> bool:
        """Some chain of this file's callers leads to a function that trains."""
        for caller, body, _ in callers().get(name, []):
            if trains_itself(caller, body) or caller not in seen and len(seen) < 8 and \
                    caller != "<module>" and reaches_training(caller, seen | {name}):
                return True
        return False

    def evaluated_by_callers(name: str) -> bool:
        """Every call of the function is under no_grad and no chain of callers trains
        (``with torch.no_grad(): logits = sliding_logits(net, tile)`` in an inference script):
        a helper of an evaluation, not a sampling step inside training."""
        if "grad_off" not in lazy:
            lazy["grad_off"] = bool(model.no_grad_withs) or any(
                _decorated_no_grad(f) for f in model.functions.values())
        if not lazy["grad_off"]:
            return False  # no no_grad anywhere in the file
        return called_under_no_grad(name) and not reaches_training(name)

    def training_helper(name: str, func: ast.AST, seen: frozenset[str] = frozenset()) -> bool:
        """A helper that only training functions call (directly or through other such
        helpers), on no validation or test data, and that is not named like an evaluation
        (``collect(agent, env, horizon)`` for PPO rollouts, ``sample(G, z)`` for a GAN step):
        its no_grad forwards are part of training."""
        short = name.split(".")[-1]
        sites = callers().get(name, [])
        if not sites or _EVAL_SCOPE.match(short) or _MONITORING.search(short) or any(
                _evaluates(src, func.body, b) for b in model.no_grad_withs  # type: ignore
                if getattr(func, "lineno", 0) <= b.lineno <= (getattr(func, "end_lineno", 0)
                                                              or 0)):
            return False
        lookup = model.scope_lookup
        for caller, body, call in sites:
            if any(_EVAL_DATA.match(w) for w in _words(call)):
                return False
            if trains_itself(caller, body):
                continue
            owner = lookup.get(caller)
            if owner is None or caller in seen or len(seen) >= 8 or \
                    not training_helper(caller, owner, seen | {name}):
                return False
        return True

    def handed_model(name: str, func: ast.AST, recv: str) -> bool:
        """``recv`` is a parameter that some call in this file hands a model
        (``perplexity(model, loader)`` for ``def perplexity(lm, loader)``)."""
        key = ("handed", name, recv)
        if key not in lazy:
            lazy[key] = _handed_model(name, func, recv)
        return lazy[key]  # type: ignore[no-any-return]

    def _handed_model(name: str, func: ast.AST, recv: str) -> bool:
        params = [a.arg for a in getattr(func, "args", ast.arguments(args=[])).args
                  if a.arg != "self"]
        if recv not in params:
            return False
        for _, _, call in callers().get(name, []):
            arg = FileModel._arg_map(call, Summary(params=params)).get(recv)
            if arg is not None and (_MODELISH.search(arg) or model.sensitive(arg) or
                                    model.without_gradients(arg)):
                return True  # (only modules have requires_grad_(False))
        return False

    def handed_frozen(name: str, func: ast.AST, recv: str) -> bool:
        """Every call hands the parameter a model frozen with requires_grad_(False) (a
        reference policy, a teacher): its forwards are not part of what trains."""
        params = [a.arg for a in getattr(func, "args", ast.arguments(args=[])).args
                  if a.arg != "self"]
        sites = callers().get(name, [])
        if recv not in params or not sites:
            return False
        for _, _, call in sites:
            arg = FileModel._arg_map(call, Summary(params=params)).get(recv)
            if arg is None or not model.without_gradients(arg):
                return False
        return True

    def from_self(func: ast.AST, recv: str) -> str | None:
        """What a local the method got from the object itself stands for (``teacher =
        self._get_teacher_encoder()``, ``encoder = self.teacher[0]``): the model's own
        business, like ``self.x``."""
        head = recv.split(".", 1)[0]
        for node in src.within(func, ast.Assign):
            if any(isinstance(t, ast.Name) and t.id == head for t in node.targets):
                value = node.value.func if isinstance(node.value, ast.Call) else node.value
                while isinstance(value, ast.Subscript):
                    value = value.value
                name = dotted(value) or ""
                return name if name.split(".", 1)[0] == "self" else None
        return None

    def only_eval_in_class(func: ast.AST, recv: str) -> bool:
        """The other methods of the class, and of its base classes in the linted project
        (``BaseCAM.__init__``: ``self.model = model; self.model.eval()``), only ever put the
        attribute in eval mode."""
        modes = class_modes(func, recv)
        if modes == {EVAL} and in_module(func) and trains_sibling(func, recv):
            # a training wrapper (teacher and student as submodules): the train() every
            # training loop calls on it switches the teacher back, whatever __init__ did
            return False
        return modes == {EVAL}

    def class_modes(func: ast.AST, recv: str) -> set[str]:
        """The modes the other methods of ``func``'s class (and of its project base classes)
        put the attribute ``recv`` in."""
        owner = model.owner.get(id(func))
        modes: set[str] = set()
        if owner is None:
            return modes
        todo, seen = [(model, owner)], set()
        while todo and len(seen) < 8:
            where, cls_name = todo.pop()
            if (id(where), cls_name) in seen:
                continue
            seen.add((id(where), cls_name))
            for key, method in where.methods.items():
                if not key.startswith(cls_name + ".") or method is func:
                    continue
                # net = build(); net.eval(); self.net = net.to(device): the local's modes
                # count as well
                local = {_unchained(a.value) for a in where.src.within(method, ast.Assign)
                         if any(dotted(t) == recv for t in a.targets)} - {None}
                modes.update(ev.mode for ev in where.events(method.body)
                             if ev.kind == "mode" and (ev.recv == recv or ev.recv in local or
                                                       recv.startswith(ev.recv + ".")))
            node = next((c for c in where.src.tree.body if isinstance(c, ast.ClassDef)
                         and c.name == cls_name), None)
            for base in node.bases if node is not None else ():
                name = dotted(base) or ""
                if name in where.classes:
                    todo.append((where, name))
                elif where.class_project is not None:
                    qualified = where.src.imports.resolve(base) or ""
                    found = where.class_project.resolve(qualified, flow=True,
                                                        near=where.src.module) \
                        if "." in qualified else None
                    if found is not None and found[1] in found[0].classes:
                        todo.append(found)
        return modes

    def trains_sibling(func: ast.AST, recv: str) -> bool:
        """The class also runs another model-like attribute with gradients (a student)."""
        cls = owner_class(func)
        if cls is None or any(isinstance(m, ast.FunctionDef) and m.name == "train"
                              for m in cls.body):
            return False  # no class, or a train() override that decides the teacher's mode
        blocks = [w for w in model.no_grad_withs
                  if cls.lineno <= w.lineno <= (cls.end_lineno or cls.lineno)]
        return any(isinstance(c.func, ast.Attribute) and dotted(c.func.value) == "self" and
                   f"self.{c.func.attr}" != recv and _MODELISH.search(c.func.attr) and
                   not any(b.lineno <= c.lineno <= (b.end_lineno or b.lineno) for b in blocks)
                   for c in src.within(cls, ast.Call))

    def frozen_submodule(func: ast.AST, recv: str) -> bool:
        """``self.x(...)`` in a module's method is a submodule the module only ever runs
        without gradients (a frozen feature extractor or teacher), not one of its methods and
        not a submodule it trains elsewhere (a sampling pass under no_grad)."""
        cls = owner_class(func)
        if cls is None or not recv.startswith("self.") or recv.count(".") != 1:
            return False
        attr = recv.split(".")[1]
        text = src.text_of(cls)
        written = any(m in text for m in ("mul_(", "copy_(", "lerp_(", ".data =", "add_("))
        if written and (f"self.{attr}.parameters()" in text or any(
                recv in names and ".parameters()" in src.text_of(loop)
                for loop in src.within(cls, ast.For) for names in _loop_aliases(loop).values())):
            # its weights are written from another module's: an EMA/momentum copy (also
            # through for online, target in ((self.a, self.a_ema), ...): target.parameters())
            return False
        assigned = [a for a in src.within(cls, ast.Assign) for t in a.targets
                    if isinstance(t, ast.Attribute) and t.attr == attr and
                    dotted(t.value) == "self"]
        if attr in model.method_owners or not assigned:
            return False  # a method (perhaps inherited), or nothing this class sets up
        init = next((m for m in cls.body if isinstance(m, ast.FunctionDef) and
                     m.name == "__init__"), None)
        params = {a.arg for a in init.args.args + init.args.kwonlyargs} if init else set()
        if all(isinstance(a.value, ast.Name) and a.value.id in params for a in assigned) and \
                not any(isinstance(c.func, ast.Attribute) and dotted(c.func.value) == "self" and
                        c.func.attr != attr and (_MODELISH.search(c.func.attr) or
                                                 model.sensitive("self." + c.func.attr))
                        for c in src.within(cls, ast.Call)):
            # handed in by the caller (a distillation loss given the teacher), and the class
            # trains no network of its own that a train() on it would be meant for: the
            # caller owns the mode
            return False
        for method in cls.body:
            if not isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)) or \
                    _decorated_no_grad(method):
                continue
            blocks = [w for w in model.no_grad_withs
                      if method.lineno <= w.lineno <= (method.end_lineno or method.lineno)]
            for call in src.within(method, ast.Call):
                if dotted(call.func) == recv and not any(
                        b.lineno <= call.lineno <= (b.end_lineno or b.lineno) for b in blocks):
                    return False  # run with gradients somewhere: trained with the module
        return True
    scopes: list[tuple[str, ast.AST]] = list(model.scope_functions)
    top = [s for s in src.tree.body
           if not isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
    # no_grad blocks of the script itself (nested in its loops too), not of its functions
    top_withs = {id(w) for s in top for kind in (ast.With, ast.AsyncWith)
                 for w in src.within(s, kind)} if model.no_grad_withs else set()
    if any(id(w) in top_withs for w in model.no_grad_withs):
        scopes.append(("<module>", ast.Module(body=top, type_ignores=[])))
    unit_tests = bool(_TEST_FILE.search(src.path))
    for name, func in scopes:
        short = name.split(".")[-1]
        if short in _FRAMEWORK_EVAL or _decorated_modeguard(func) or _RECALIBRATION.search(short):
            continue  # framework-managed, modeguard-managed, or BatchNorm recalibration
        if unit_tests and short.startswith("test"):
            continue  # a unit test runs toy models in whatever mode it means to test
        first = getattr(func, "lineno", 0)
        last = getattr(func, "end_lineno", None) or 10**9
        if short == "<module>":
            blocks = [w for w in model.no_grad_withs if id(w) in top_withs]
            trains = any(e.kind in ("step", "backward") for e in model.events(func.body))
        else:
            blocks = [w for w in model.no_grad_withs if first <= w.lineno <= last]
            trains = any(first <= n <= last for n in model.gradient_lines)
            if not trains and (blocks or _EVAL_SCOPE.match(short)):
                # backward or step through a helper (a gradient-caching step embeds under
                # no_grad, then calls backward(loss, scaler) and finish_step(optimizer))
                trains = any(e.kind in ("step", "backward") for e in model.events(func.body))
        body = func.body  # type: ignore[attr-defined]
        # loops over validation or test data inside a training function, computing no
        # gradients themselves: an evaluation written inline, perhaps without no_grad
        loops = _evaluation_loops(src, body, model.gradient_lines) \
            if trains and short != "<module>" else []
        # gradients computed for analysis, not training (Grad-CAM, saliency, adversarial
        # examples): a backward in a file that never steps an optimizer nor calls eval()
        analysis = trains and short != "<module>" and not model.has_step and \
            "eval()" not in src.source and _ANALYSIS.search(src.source) is not None and \
            "test" not in short.lower() and not model.may_step()
        eval_scope = analysis or bool(_EVAL_SCOPE.match(short)) or bool(blocks) or \
            short != "<module>" and not trains and _serves(func) or \
            _decorated_no_grad(func) or bool(loops) or not trains and short != "<module>" and \
            (_evaluates_in_loop(model, func) or
             _DISPLAY.search(short) is not None and _evaluates_in_loop(model, func, True))
        inherited = not eval_scope and not trains and short != "<module>" and \
            evaluated_by_callers(name)
        # the last step or backward (in execution order, loops walked twice): an eval() after
        # it evaluates the trained model
        # (read only for training functions that call eval() themselves: few)
        late = trains and short != "<module>" and any(
            isinstance(c.func, ast.Attribute) and c.func.attr in ("eval", "train")
            for c in model.scope_calls.get(id(func), ()))
        flow = model.events(body) if late else []
        last_step = max((i for i, e in enumerate(flow) if e.kind in ("step", "backward")),
                        default=len(flow))
        step_lines = {e.line for e in flow if e.kind in ("step", "backward")}
        training_loops = [loop for stmt in body for kind in (ast.For, ast.AsyncFor, ast.While)
                          for loop in src.within(stmt, kind)
                          if any(loop.lineno <= n <= (loop.end_lineno or 0) for n in step_lines)
                          ] if late else []

        def after_training(i: int, line: int) -> bool:
            return late and i > last_step and not any(
                loop.lineno <= line <= (loop.end_lineno or 0) for loop in training_loops)

        evaluates_after = late and any(e.kind == "mode" and e.mode == EVAL and
                                       after_training(i, e.line) for i, e in enumerate(flow))
        eval_scope = eval_scope or inherited or evaluates_after
        if not eval_scope:
            continue
        teachers: set[str] = set()
        all_blocks = blocks
        if trains:
            # a scope that computes gradients: only its no_grad loops over validation or test
            # data evaluate (a GAN's samples or an EMA teacher under no_grad are deliberate),
            # and the models it runs only without gradients and never trains or averages (a
            # distillation teacher: its targets depend on its mode)
            teachers = {ev.recv for ev in model.events(body) if ev.kind == "forward" and
                        short != "<module>" and _untrained_teacher(model, func, ev.recv)}
            blocks = [b for b in blocks if _evaluates(src, func.body, b)]  # type: ignore[attr-defined]
            if not blocks and not loops and not teachers and not evaluates_after and \
                    not analysis:
                continue
        state: dict[str, str] = {}
        seen: set[str] = set()
        # PyTorch < 0.4: Variable(x, volatile=True) switched autograd off
        legacy_no_grad = short != "<module>" and "volatile" in src.text_of(func)
        for index, ev in enumerate(model.events(body)):
            if ev.kind == "mode":
                _set_mode(state, ev.recv, ev.mode)
            elif trains and not analysis and ev.kind == "forward" and \
                    ev.recv not in teachers and not any(
                    b.lineno <= ev.line <= (b.end_lineno or b.lineno) for b in blocks + loops) \
                    and not (after_training(index, ev.line) and
                             _mode_of(state, ev.recv) == EVAL and
                             not any(b.lineno <= ev.line <= (b.end_lineno or b.lineno)
                                     for b in all_blocks)):
                continue  # (a forward in eval mode after the last step evaluates the result)
            elif ev.kind == "forward" and ev.recv not in seen and ev.recv not in model.pinned \
                    and not any(ev.recv.startswith(r + ".") for r in seen) \
                    and (_MODELISH.search(ev.recv) or
                         ev.recv.split(".", 1)[0] in model.switched or model.sensitive(ev.recv)
                         or handed_model(name, func, ev.recv)) \
                    and not model.foreign(ev.recv) \
                    and model.sensitive(ev.recv) is not False:
                if _in_modeguard_ctx(src, func, ev.line):
                    continue
                seen.add(ev.recv)
                # Variable(x, volatile=True) was no_grad before PyTorch 0.4 and does nothing
                # since: evidence of an evaluation, but autograd is on (MG401 still applies)
                legacy_only = legacy_no_grad and not (_decorated_no_grad(func) or any(
                    b.lineno <= ev.line <= (b.end_lineno or b.lineno) for b in blocks) or
                    inherited or ev.recv in teachers)
                under_no_grad = _decorated_no_grad(func) or any(
                    b.lineno <= ev.line <= (b.end_lineno or b.lineno) for b in blocks) or \
                    legacy_no_grad or inherited or ev.recv in teachers
                mode = _mode_of(state, ev.recv)
                if mode is None:
                    mode = _mode_at_callers(model, callers(), name, ev.recv)
                # every caller hands it a model without dropout or BatchNorm: modes do not matter
                plain = model.sensitive(ev.recv) is None and short != "<module>" and \
                    _insensitive_at_callers(model, callers(), name, ev.recv)
                head = ev.recv.split(".", 1)[0]
                if mode is None and short != "<module>" and (
                        not callers().get(name) or head not in _local_names(src, func) and
                        head not in {a.arg for a in func.args.args + func.args.kwonlyargs}):
                    # a global model: what the module-level code left it in
                    mode = _mode_of(module_modes(), ev.recv)
                if mode is None and short != "<module>":
                    mode = _stored_mode(model, func, head)
                owned = ev.recv if ev.recv.startswith("self.") else from_self(func, ev.recv)
                guessed = mode is None and ev.recv.startswith("self.") and \
                    not in_module(func) and class_modes(func, ev.recv) == {TRAIN}
                if guessed:
                    mode = TRAIN  # an estimator's fit() leaves it in train mode for predict()
                if mode is None and not _MODELISH.search(ev.recv) and \
                        not model.sensitive(ev.recv):
                    continue  # a model only by its name, its class, or a train()/eval() on it
                if mode is None and owned and (
                        in_module(func) and not frozen_submodule(func, owned) or
                        only_eval_in_class(func, owned)):
                    # a model's own method or trained submodule (the caller sets the mode), or
                    # an attribute the class's other methods only ever put in eval (a teacher
                    # set up in setup())
                    continue
                inline = any(b.lineno <= ev.line <= (b.end_lineno or b.lineno) for b in loops)
                if mode in (TRAIN, None) and (under_no_grad or _EVAL_SCOPE.match(short) or
                                              inline and mode == TRAIN or analysis):
                    if mode is None and not under_no_grad and not analysis:
                        continue  # a plain "test_*" name alone is weak evidence
                    if analysis and mode is not None and not under_no_grad:
                        continue  # gradients taken in a mode chosen on purpose
                    if under_no_grad and not inline and training_helper(name, func) and not (
                            (_MODELISH.search(ev.recv) or handed_frozen(name, func, ev.recv))
                            and _never_trained(model, ev.recv)):
                        continue  # rollouts or samples for the training step that calls it
                        #           (a teacher that nothing trains is evaluated, though)
                    if mode is None and _judged_elsewhere(model, callers(), name, ev.recv):
                        # a helper handed its model by callers elsewhere (directly, or through
                        # the helpers of this file that call it): judged at those calls
                        # (another linted file), or not at all (a sampler nobody here calls)
                        continue
                    if (not under_no_grad or legacy_only) and not trains and \
                            mode == TRAIN and not called_under_no_grad(name):
                        yield _keeps_graph(src.path, ev, "")
                    if plain:
                        continue
                    yield Finding(
                        "MG102",
                        f"{ev.recv}(...) runs " + (f"in {short}() " if short != "<module>" else "") +
                        ("under no_grad " if under_no_grad else "") +
                        f"but nothing puts {ev.recv} in eval mode first: dropout stays active and "
                        "BatchNorm uses and updates batch statistics",
                        path=src.path, line=ev.line, col=0,
                        severity=None if model.sensitive(ev.recv) and not guessed
                        else Severity.WARNING,
                        hint=f"call {ev.recv}.eval() before evaluating (and {ev.recv}.train() "
                             f"after), or use modeguard.inference({ev.recv})")
                elif mode == EVAL and (not under_no_grad or legacy_only) and \
                        not called_under_no_grad(name) and \
                        not model.without_gradients(ev.recv):
                    yield _keeps_graph(src.path, ev, "in eval mode " + (
                        "(Variable(volatile=True) has done nothing since PyTorch 0.4) "
                        if legacy_only else ""))


def _serves(func: ast.AST) -> bool:
    """A web request handler (``@app.route("/rank")``, ``@app.post(...)``,
    ``@router.get(...)``): everything it runs is inference."""
    for deco in getattr(func, "decorator_list", ()):
        target = deco.func if isinstance(deco, ast.Call) else deco
        if isinstance(target, ast.Attribute) and target.attr in (
                "route", "get", "post", "put", "patch", "websocket", "api_route"):
            return True
    return False


def _stored_mode(model: FileModel, func: ast.AST, name: str) -> str | None:
    """``net = STATE["model"]`` (or ``self.models[key]``) in ``func``: the mode every value the
    file stores into that container has, when each comes from a function of the file that
    returns its model in a known mode (``STATE["model"] = load_din(path)``)."""
    src = model.src
    taken = [a.value for a in src.within(func, ast.Assign) if len(a.targets) == 1 and
             isinstance(a.targets[0], ast.Name) and a.targets[0].id == name and
             isinstance(a.value, ast.Subscript)]
    if len(taken) != 1 or (box := dotted(taken[0].value)) is None:
        return None
    modes = set()
    for node in src.of(ast.Assign):
        for t in node.targets:
            if isinstance(t, ast.Subscript) and dotted(t.value) == box:
                value = node.value
                if isinstance(value, ast.Name):  # STATE["model"] = fresh; fresh = load(...)
                    value = next((a.value for a in src.of(ast.Assign)
                                  if len(a.targets) == 1 and isinstance(a.targets[0], ast.Name)
                                  and a.targets[0].id == value.id and a.lineno < node.lineno
                                  and isinstance(a.value, ast.Call)), value)
                found = model._callee_summary(value) if isinstance(value, ast.Call) else None
                modes.add(found[0].returns[0] if found and found[0].returns else None)
    return modes.pop() if len(modes) == 1 else None


def _evaluates_in_loop(model: FileModel, func: ast.AST, anywhere: bool = False) -> bool:
    """``net.eval()``, then ``net(x)`` in a loop over data: an evaluation, whatever its name
    (a single forward after eval(), for a summary or a FLOP count, is not one). ``anywhere``:
    a single forward counts too (a helper that shows reconstructions or samples)."""
    if not any(isinstance(c.func, ast.Attribute) and c.func.attr in ("eval", "train")
               for c in model.scope_calls.get(id(func), ())):
        return False  # no eval() of its own (most functions): nothing to read
    flow = model.events(func.body)  # type: ignore[attr-defined]
    evaluated = {e.recv for e in flow if e.kind == "mode" and e.mode == EVAL and not e.via}
    if not evaluated:
        return False
    loops = [loop for stmt in func.body for kind in (ast.For, ast.AsyncFor, ast.While)  # type: ignore
             for loop in model.src.within(stmt, kind)]
    return any(e.kind == "forward" and e.recv in evaluated and
               (anywhere or any(loop.lineno <= e.line <= (loop.end_lineno or 0)
                                for loop in loops))
               for e in flow)


def _keeps_graph(path: str, ev: _Event, how: str) -> Finding:
    return Finding("MG401", f"{ev.recv}(...) evaluates {how}with autograd enabled and no "
                            "backward: the graph is kept for nothing",
                   path=path, line=ev.line, col=0,
                   hint="wrap the evaluation in torch.no_grad() / torch.inference_mode() "
                        "(or use modeguard.inference)")


_TRAIN_WORD = re.compile(r"^(train|training|is_train|is_training)$", re.I)
_EVAL_DATA = re.compile(r"^(val|valid|validation|test|testing|eval|evaluation|dev|holdout)"
                        r"(loader|dataloader|set|data|dataset|dl|ds|iter|batches|samples)?$",
                        re.I)


def _words(expr: ast.AST) -> list[str]:
    """The parts of the names and strings in an expression (``self.val_loader`` -> self, val,
    loader)."""
    out: list[str] = []
    for node in ast.walk(expr):
        text = node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) \
            else dotted(node) if isinstance(node, (ast.Name, ast.Attribute)) else None
        if text:
            out.extend(re.split(r"[._\s]", text))
    return out


def _evaluation_loops(src: SourceFile, body: list[ast.stmt],
                      gradient_lines: list[int]) -> list[ast.AST]:
    """The loops of a function body over validation or test data (``for x in val_loader:``)
    that run no backward or optimizer step themselves."""
    out: list[ast.AST] = []
    for stmt in body:
        for kind in (ast.For, ast.AsyncFor):
            for loop in src.within(stmt, kind):
                end = loop.end_lineno or loop.lineno
                if any(_EVAL_DATA.match(w) for w in _words(loop.iter)) and not any(
                        loop.lineno <= n <= end for n in gradient_lines):
                    out.append(loop)
    return out


def _evaluates(src: SourceFile, body: list[ast.stmt], block: ast.AST) -> bool:
    """Whether a no_grad block inside a training scope evaluates: it loops over validation or
    test data (``for x, y in val_loader:``), or it is the evaluation branch of a phase test
    (``if phase == "valid":``, or the ``else`` of ``if phase == "train":``)."""
    for loop in src.within(block, ast.For) + src.within(block, ast.AsyncFor):
        if any(_EVAL_DATA.match(w) for w in _words(loop.iter)):
            return True
    for stmt in body:
        for branch in src.within(stmt, ast.If):
            words = _words(branch.test)
            for part, wanted in ((branch.body, _EVAL_DATA), (branch.orelse, _TRAIN_WORD)):
                if part and part[0].lineno <= block.lineno <= (part[-1].end_lineno or 0) and \
                        any(wanted.match(w) for w in words):
                    return True
    return False


def _decorated_modeguard(func: ast.AST) -> bool:
    for d in getattr(func, "decorator_list", []):
        name = dotted(d.func if isinstance(d, ast.Call) else d) or ""
        if name.rsplit(".", 1)[-1] in _MODEGUARD_CTX:
            return True
    return False


def _call_sites(model: FileModel) -> dict[str, list[tuple[str, list[ast.stmt], ast.Call]]]:
    """For each function of the file: (name of the caller, its body, the call)."""
    out: dict[str, list[tuple[str, list[ast.stmt], ast.Call]]] = {}
    scopes: list[tuple[str, int, list[ast.stmt]]] = \
        [("<module>", id(model.src.tree), model.src.tree.body)] + \
        [(n, id(f), f.body) for n, f in model.functions.items()]
    for caller, key, body in scopes:
        for node in model.scope_calls.get(key, ()):
            name = _callee(node)
            if name in model.functions:
                out.setdefault(name, []).append((caller, body, node))
    return out


def _local_names(src: SourceFile, func: ast.AST) -> set[str]:
    """Names a function binds itself by assignment (nested definitions excluded)."""
    nested = [(d.lineno, d.end_lineno or d.lineno)
              for kind in (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
              for d in src.within(func, kind) if d is not func]
    return {t.id for n in src.within(func, ast.Assign)
            if not any(a <= n.lineno <= b for a, b in nested)
            for t in n.targets if isinstance(t, ast.Name)}


def _judged_elsewhere(model: FileModel,
                      callers: dict[str, list[tuple[str, list[ast.stmt], ast.Call]]], name: str,
                      recv: str, depth: int = 0) -> bool:
    """Whether ``recv``, a parameter of ``name``, is in eval mode at every call in this file or
    comes from outside it: passed on from the caller's own parameters, up to functions nobody
    here calls that are not named like evaluations or that other linted files call."""
    func = model.functions.get(name) or model.methods.get(name)
    if func is None or depth > 4:
        return False
    params = [a.arg for a in func.args.args if a.arg != "self"]
    head, dot, rest = recv.partition(".")
    if head not in params:
        return False
    sites = callers.get(name, [])
    if not sites:
        short = name.split(".")[-1]
        return not _EVAL_SCOPE.match(short) or model.project is not None and \
            model.project.called_elsewhere(short, model.src.module)
    for caller, body, call in sites:
        arg = FileModel._arg_map(call, Summary(params=params)).get(head)
        if arg is None:
            return False
        mode = _mode_at_site(model, body, call.lineno, arg + dot + rest)
        if mode == EVAL:
            continue
        if mode is not None or caller in ("<module>", name) or \
                not _judged_elsewhere(model, callers, caller, arg + dot + rest, depth + 1):
            return False
    return True


def _mode_at_site(model: FileModel, body: list[ast.stmt], line: int, target: str) -> str | None:
    """The mode ``target`` was last set to before the call at ``line`` of ``body``."""
    state: str | None = None
    modes: dict[str, str] = {}
    for ev in model.events(body):
        if ev.via == line or ev.line > line and ev.kind != "mode":
            break  # what the call itself does, or what comes after it
        if ev.kind == "copy":  # ref = copy.deepcopy(policy): policy's mode at that point
            copied = _mode_of(modes, ev.mode)
            if copied is not None:
                _set_mode(modes, ev.recv, copied)
                if ev.recv == target or target.startswith(ev.recv + "."):
                    state = copied
            continue
        if ev.kind == "mode" and (ev.via or ev.line) <= line:
            _set_mode(modes, ev.recv, ev.mode)
        # a callee's effect happens at the call (via), not at its line in the callee
        if ev.kind == "mode" and (ev.via or ev.line) <= line and (
                ev.recv == target or target.startswith(ev.recv + ".")):
            state = ev.mode  # test(model.eval(), ...) counts too
    return state


def _insensitive_at_callers(model: FileModel,
                            callers: dict[str, list[tuple[str, list[ast.stmt], ast.Call]]],
                            name: str, recv: str, depth: int = 0) -> bool:
    """Every call of ``name`` in this file hands ``recv`` (a parameter) a model whose class
    has no mode-sensitive layer (``rollout(qnet)`` with ``qnet = MLPQ(...)``)."""
    func = model.functions.get(name) or model.methods.get(name)
    sites = callers.get(name, [])
    if func is None or not sites or depth > 4:
        return False
    params = [a.arg for a in func.args.args if a.arg != "self"]
    head, dot, rest = recv.partition(".")
    if head not in params:
        return False
    for caller, _, call in sites:
        arg = FileModel._arg_map(call, Summary(params=params)).get(head)
        if arg is None:
            return False
        target = arg + dot + rest
        if model.sensitive(target) is not False and not (
                caller != name and _insensitive_at_callers(model, callers, caller, target,
                                                           depth + 1)):
            return False
    return True


def _mode_at_callers(model: FileModel,
                     callers: dict[str, list[tuple[str, list[ast.stmt], ast.Call]]], name: str,
                     recv: str, depth: int = 0) -> str | None:
    """The mode of ``recv`` when ``name`` is called: EVAL only if every call site has it.
    A parameter stands for the argument of each call (``evaluate(net)``: ``model`` is ``net``);
    a caller that passes its own parameter on is asked about its callers in turn."""
    sites = callers.get(name, [])
    if not sites or depth > 4:
        return None
    func = model.functions.get(name)
    params = [a.arg for a in func.args.args if a.arg != "self"] if func is not None else []
    head, dot, rest = recv.partition(".")
    modes = set()
    for caller, body, call in sites:
        line = call.lineno
        target = recv
        if head in params:
            arg = FileModel._arg_map(call, Summary(params=params)).get(head)
            if arg is not None:
                target = arg + dot + rest
        state = _mode_at_site(model, body, line, target)
        if state is None and caller != name and caller in model.functions:
            state = _mode_at_callers(model, callers, caller, target, depth + 1)
        modes.add(state)
    if modes == {EVAL}:
        return EVAL
    if TRAIN in modes or RESTORED in modes:
        return TRAIN
    return None


# ------------------------------------------------------------------ MG301 / MG302

_BN_NAMES = re.compile(r"BatchNorm|SyncBatchNorm|_BatchNorm|FrozenBatchNorm")


def _bn_constants(src: SourceFile) -> list[str]:
    """Module-level names bound to BatchNorm classes (``NORM_TYPES = (nn.BatchNorm2d, ...)``),
    computed once per file (kept on the file object)."""
    cache = vars(src)
    if "_bn_constants" not in cache:
        cache["_bn_constants"] = [
            s.targets[0].id for s in src.tree.body
            if isinstance(s, ast.Assign) and len(s.targets) == 1 and
            isinstance(s.targets[0], ast.Name) and _BN_NAMES.search(src.text_of(s.value))]
    return cache["_bn_constants"]  # type: ignore[no-any-return]


def _bn_checks(src: SourceFile, node: ast.AST) -> bool:
    """Whether a condition tests for BatchNorm (``isinstance(m, nn.BatchNorm2d)``,
    ``type(m).__name__ == "BatchNorm2d"``, ``"BatchNorm" in name``...)."""
    text = src.text_of(node)
    if "BatchNorm" not in text:
        # isinstance(m, NORM_TYPES) with NORM_TYPES = (nn.BatchNorm2d, ...) at module level
        constants = _bn_constants(src)
        return bool(constants) and "isinstance" in text and \
            any(re.search(rf"\b{c}\b", text) for c in constants)
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Name) and \
                sub.func.id == "isinstance" and len(sub.args) == 2:
            if _BN_NAMES.search(ast.unparse(sub.args[1])):
                return True
        if isinstance(sub, ast.Compare) and _BN_NAMES.search(ast.unparse(sub)):
            return True
    return False


_BN_ATTRIBUTE = re.compile(r"\.(bn|batch_?norm|norm_?bn)\d*$", re.I)


def _bn_freezes(src: SourceFile) -> Iterator[tuple[ast.AST, int]]:
    """(block, line of the eval() call) for BatchNorm layers put in eval by hand."""
    if "Norm" not in src.source:
        return
    for node in src.of(ast.If):
        if _bn_checks(src, node.test):
            for sub in (c for stmt in node.body for c in src.within(stmt, ast.Call)):
                m = _mode_call(sub)
                if m is not None and m[1] == EVAL:
                    yield node, sub.lineno
    # a BatchNorm layer by name: self.bn.eval(), model.bn1.eval()
    for call in src.of(ast.Call):
        m = _mode_call(call)
        if m is not None and m[1] == EVAL and _BN_ATTRIBUTE.search(m[0]):
            yield call, call.lineno


_EVAL_TEXT = re.compile(r"\.eval\(\)")
_EVALUATION_TEXT = re.compile(r"no_grad|inference_mode")  # a file with evaluation code
_FREEZE_TEXT = re.compile(r"freez|froz(?!enset)", re.I)  # names of freezing helpers (freeze_bn_stats(...))


def _foreign_freezes_possible(model: FileModel) -> bool:
    """A freeze in another linted file can reach this one: through a call of a freezing helper
    (or of a factory told to freeze) imported from a file with an ``eval()``, a freezing
    method of an attribute (``self.backbone.freeze_norm_stats()``), or ``model.apply(f)`` with
    ``f`` imported."""
    src = model.src
    if model.project is None or not _FREEZE_TEXT.search(src.source) and \
            ".apply(" not in src.source:
        return False
    imported = src.imports.names
    for c in src.of(ast.Call):
        if isinstance(c.func, ast.Attribute) and c.func.attr == "apply" and c.args and \
                isinstance(c.args[0], ast.Name) and c.args[0].id in imported and \
                _FREEZE_TEXT.search(c.args[0].id) or isinstance(c.func, ast.Attribute) and \
                c.func.attr == "apply" and c.args and isinstance(c.args[0], ast.Name) and \
                c.args[0].id in imported and model._function_of(c.args[0].id) is not None:
            return True
        if not (_FREEZE_TEXT.search(dotted(c.func) or "") or
                any(_FREEZE_TEXT.search(k.arg or "") for k in c.keywords)):
            continue
        if _head(c.func) == "self" and re.search(r"bn|norm|stat|batch", dotted(c.func) or "",
                                                  re.I) or \
                _head(c.func) in imported and model.project.mentions(
                    src.imports.resolve(c.func) or "", _EVAL_TEXT, near=src.module):
            return True  # (self.backbone.freeze_norm_stats(), not self.freeze_layout())
    return False


def _mg301(model: FileModel) -> Iterator[Finding]:
    src = model.src
    freezes = model.freezes
    if not freezes and not _foreign_freezes_possible(model):
        return
    # a train() override that re-freezes makes every freeze in its class correct
    for cls in src.of(ast.ClassDef):
        for item in cls.body:
            if isinstance(item, ast.FunctionDef) and item.name == "train" and \
                    any(_bn_checks(src, n.test) for n in src.within(item, ast.If)):
                return
    scopes = [src.tree.body] + [f.body for _, f in model.scope_functions]
    freeze_lines = {line for _, line in freezes}
    foreign_reported: set[tuple[str, int]] = set()
    for body in scopes:
        events = list(model.events(body))
        for i, ev in enumerate(events):
            foreign = ev.kind == "mode" and ev.mode == EVAL and bool(ev.path) and \
                ev.recv.endswith(".<bn>") and (ev.path, ev.line) not in foreign_reported
            if foreign or \
                    ev.kind == "mode" and ev.mode == EVAL and not ev.path and ev.line in freeze_lines:
                later = events[i + 1:]
                # the train() of a model holding the frozen layers, else of any model
                undo = next((e for e in later if e.kind == "mode" and e.mode == TRAIN and
                             ev.recv.startswith(e.recv + ".")), None) or \
                    next((e for e in later if e.kind == "mode" and e.mode == TRAIN and
                          _MODELISH.search(e.recv)), None)
                if undo is None:
                    continue
                after_undo = later[later.index(undo) + 1:]
                refreeze = any(e.kind == "mode" and e.mode == EVAL and (
                    e.line in freeze_lines and not e.path or (e.path, e.line) == (ev.path, ev.line))
                               for e in after_undo)
                steps = any(e.kind in ("step", "forward") for e in after_undo)
                if not refreeze and steps:
                    yield Finding(
                        "MG301",
                        f"BatchNorm layers frozen with eval() here are switched back to training "
                        f"mode by {undo.recv}.train() at line {undo.line}, with no re-freeze",
                        path=ev.path or src.path, line=ev.line, col=0,
                        related=(Location(src.path, undo.line, 0, "undone by train() at"),) + (
                            (Location(src.path, ev.via, 0, "frozen by the call at"),)
                            if ev.path else ()),
                        hint="use modeguard.freeze_bn(model) (survives model.train()), or "
                             "re-freeze after every model.train()")
                    if foreign:
                        foreign_reported.add((ev.path, ev.line))
                        continue
                    # one finding per freezing function (if/elif branches freeze the same way)
                    owner = min(((f.lineno, f.end_lineno or f.lineno)
                                 for f in model.functions.values()
                                 if f.lineno <= ev.line <= (f.end_lineno or f.lineno)),
                                key=lambda r: r[1] - r[0], default=(ev.line, ev.line))
                    freeze_lines.difference_update(
                        {x for x in freeze_lines if owner[0] <= x <= owner[1]})
    yield from _freezes_undone_by_other_methods(model, freeze_lines, foreign_reported)
    yield from _constructor_freezes(src, freeze_lines)


def _freezes_undone_by_other_methods(model: FileModel, freeze_lines: set[int],
                                     done: set[tuple[str, int]]) -> Iterator[Finding]:
    """A trainer object freezes ``self.D``'s BatchNorm in one method (``__init__``: a call
    to a freezing helper, here or in another linted file) and another method of the class
    calls ``self.D.train()`` before stepping, without freezing again."""
    src = model.src
    by_class: dict[str, list[tuple[str, ast.AST]]] = {}
    for name, func in model.scope_functions:
        owner = model.owner.get(id(func))
        if owner is not None:
            by_class.setdefault(owner, []).append((name, func))
    for methods in by_class.values():
        frozen = []  # (event, method) of freezes of self.X
        if not any(f.lineno <= line <= (f.end_lineno or 0) for _, f in methods
                   for line in freeze_lines) and not any(
                _FREEZE_TEXT.search(dotted(c.func) or "")
                for _, f in methods for c in model.scope_calls.get(id(f), ())):
            continue  # no freeze here nor a call to a freezing helper: most classes
        for _, func in methods:
            for ev in model.events(func.body):  # type: ignore[attr-defined]
                if ev.kind == "mode" and ev.mode == EVAL and ev.recv.startswith("self.") and (
                        ev.path and ev.recv.endswith(".<bn>") or
                        not ev.path and ev.line in freeze_lines):
                    frozen.append((ev, func))
        for ev, where in frozen:
            key = (ev.path or src.path, ev.line)
            if key in done:
                continue
            if ev.path and getattr(where, "name", "") == "__init__" and \
                    _unguarded_module(model, where):
                # a module's constructor freezes through another file: the first
                # model.train() of any training loop undoes it (no train() override here)
                done.add(key)
                yield Finding(
                    "MG301",
                    "BatchNorm layers frozen with eval() here, while the model is built (called "
                    f"from {src.path}:{ev.via}), are switched back to training mode by the "
                    "first model.train() of any training loop: the class does not override "
                    "train() to re-freeze",
                    path=ev.path, line=ev.line, col=0,
                    related=(Location(src.path, ev.via, 0, "frozen while built, by the call at"),),
                    hint="use modeguard.freeze_bn(model) (survives model.train()), or override "
                         "train() to re-freeze")
                continue
            for _, func in methods:
                if func is where:
                    continue
                flow = model.events(func.body)  # type: ignore[attr-defined]
                undo = next((i for i, e in enumerate(flow) if e.kind == "mode" and
                             e.mode == TRAIN and ev.recv.startswith(e.recv + ".")), None)
                if undo is None:
                    continue
                after = flow[undo + 1:]
                if any(e.kind == "mode" and e.mode == EVAL and e.line == ev.line and
                       e.path == ev.path for e in after) or \
                        not any(e.kind in ("step", "forward") for e in after):
                    continue
                done.add(key)
                if not ev.path:
                    freeze_lines.discard(ev.line)  # (not reported again as a constructor's)
                yield Finding(
                    "MG301",
                    f"BatchNorm layers frozen with eval() here are switched back to training "
                    f"mode by {flow[undo].recv}.train() at {src.path}:{flow[undo].line}, with "
                    "no re-freeze",
                    path=ev.path or src.path, line=ev.line, col=0,
                    related=(Location(src.path, flow[undo].line, 0, "undone by train() at"),),
                    hint="use modeguard.freeze_bn(model) (survives model.train()), or "
                         "re-freeze after every model.train()")
                break


def _unguarded_module(model: FileModel, init: ast.AST) -> bool:
    """``init`` is the constructor of an nn.Module-like class of this file that does not
    override ``train()``."""
    from modeguard.lint.astutil import looks_like_module

    owner = model.owner.get(id(init))
    cls = next((c for c in model.src.tree.body if isinstance(c, ast.ClassDef) and
                c.name == owner), None)
    return cls is not None and looks_like_module(cls) and not any(
        isinstance(i, ast.FunctionDef) and i.name == "train" for i in cls.body)


def _constructor_freezes(src: SourceFile, freeze_lines: set[int]) -> Iterator[Finding]:
    """A freeze run while the model is built (in ``__init__`` or a method it calls) is undone by
    the first ``model.train()``, which every training loop calls: unless the class overrides
    ``train()``."""
    from modeguard.lint.astutil import looks_like_module

    top = {f.name: f for f in src.tree.body if isinstance(f, ast.FunctionDef)}
    for cls in src.of(ast.ClassDef):
        defs = {i.name: i for i in cls.body if isinstance(i, ast.FunctionDef)}
        init = defs.get("__init__")
        if init is None or "train" in defs or not looks_like_module(cls):
            continue
        called = {c.func.attr for c in src.within(init, ast.Call)
                  if isinstance(c.func, ast.Attribute) and dotted(c.func.value) == "self"}
        # module-level helpers it calls or hands to apply(): self.backbone.apply(set_bn_eval)
        helpers = {name for c in src.within(init, ast.Call)
                   for name in [dotted(c.func)] + [dotted(a) for a in c.args]
                   if name in top and not _used_outside(src, name, init)}
        for func in [init] + [defs[n] for n in sorted(called) if n in defs] + \
                [top[n] for n in sorted(helpers)]:
            inside = [line for line in sorted(freeze_lines)
                      if func.lineno <= line <= (func.end_lineno or func.lineno)]
            freeze_lines.difference_update(inside)
            for line in inside[:1]:  # one finding per freezing method: its first eval()
                yield Finding(
                    "MG301",
                    f"BatchNorm layers frozen with eval() while {cls.name} is built: the first "
                    "model.train() (every training loop calls it) switches them back to "
                    "training mode",
                    path=src.path, line=line, col=0,
                    related=(Location(src.path, init.lineno, 0, "run by the constructor at"),),
                    hint="use modeguard.freeze_bn(model) (survives model.train()), override "
                         "train() to re-freeze, or freeze after every model.train()")


_BN_PARAMETER = re.compile(r"^\.?(bn|batch_?norm|norm_?bn)\d*\.?$", re.I)


def _bn_name_test(test: ast.expr) -> bool:
    """``"bn" in name`` over named_parameters(): a BatchNorm parameter picked by its name."""
    return any(isinstance(sub, ast.Compare) and isinstance(sub.left, ast.Constant) and
               isinstance(sub.left.value, str) and _BN_PARAMETER.match(sub.left.value) and
               any(isinstance(op, ast.In) for op in sub.ops) for sub in ast.walk(test))


def _used_outside(src: SourceFile, name: str, func: ast.AST) -> bool:
    """Whether ``name`` is called or handed to a call anywhere but in ``func`` and its own
    definition (a freeze helper also run after every ``model.train()`` re-freezes)."""
    first, last = getattr(func, "lineno", 0), getattr(func, "end_lineno", 0) or 0
    return any(not first <= c.lineno <= last and
               (dotted(c.func) == name or any(dotted(a) == name for a in c.args))
               for c in src.of(ast.Call))


def _mg302(model: FileModel) -> Iterator[Finding]:
    src = model.src
    text = src.source
    if "track_running_stats" in text or "Norm" not in text or "freeze_bn(" in text and \
            re.search(r"(?<!def )(?<!self\.)\bfreeze_bn\(", text):
        return  # statistics frozen too: by modeguard or by construction
    shadowed = _shadowed_methods(src) if model.freezes else []
    lasting = {line for _, line in model.freezes
               if not any(a <= line <= b for a, b in shadowed)} - \
        ({f.line for f in _mg301(model)} if model.freezes else set())
    if lasting:
        return  # BatchNorm put in eval in a way that lasts (re-frozen after train(), or by a
        #         train() override): the statistics are frozen too (a freezing method that an
        #         attribute shadows never runs: it does not count)
    yield from _block_freezes(model)
    for node in src.of(ast.If):
        if not (_bn_checks(src, node.test) or _bn_name_test(node.test)):
            continue
        if any((_mode_call(c) or ("", ""))[1] == EVAL
               for stmt in node.body for c in src.within(stmt, ast.Call)):
            continue
        block = [n for stmt in node.body for kind in (ast.Assign, ast.Call)
                 for n in src.within(stmt, kind)]
        block.sort(key=lambda n: (n.lineno, n.col_offset))
        for sub in block:
            line = None
            if isinstance(sub, ast.Assign) and any(
                    isinstance(t, ast.Attribute) and t.attr == "requires_grad"
                    for t in sub.targets) and isinstance(sub.value, ast.Constant) \
                    and sub.value.value is False:
                line = sub.lineno
            elif isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute) and \
                    sub.func.attr == "requires_grad_" and sub.args and \
                    isinstance(sub.args[0], ast.Constant) and sub.args[0].value is False:
                line = sub.lineno
            if line is not None:
                yield Finding(
                    "MG302",
                    "BatchNorm weight/bias frozen with requires_grad=False, but the layer stays "
                    "in training mode: its running statistics keep updating",
                    path=src.path, line=line, col=0,
                    hint="also freeze the statistics: modeguard.freeze_bn(model) does both and "
                         "survives model.train()")
                break


def _shadowed_methods(src: SourceFile) -> list[tuple[int, int]]:
    """Line ranges of methods that an attribute of the same name replaces on the instance
    (``self.freeze_bn = freeze_bn`` in a class with ``def freeze_bn``): they never run."""
    out = []
    for cls in src.of(ast.ClassDef):
        methods = {i.name: i for i in cls.body if isinstance(i, ast.FunctionDef)}
        for node in src.within(cls, ast.Assign):
            for t in node.targets:
                if isinstance(t, ast.Attribute) and dotted(t.value) == "self" and \
                        t.attr in methods:
                    m = methods[t.attr]
                    out.append((m.lineno, m.end_lineno or m.lineno))
    return out


# torchvision models built with BatchNorm layers
_TV_BN_MODEL = re.compile(r"(^|\.)(resnet\d+|resnext\w+|wide_resnet\w+|densenet\d+|mobilenet\w*|"
                          r"efficientnet\w*|regnet\w+|inception_v3|googlenet|shufflenet\w+|"
                          r"mnasnet\w+|vgg\d+_bn)$", re.M)


def _block_freezes(model: FileModel) -> Iterator[Finding]:
    """``for p in backbone.parameters(): p.requires_grad = False`` (or
    ``backbone.requires_grad_(False)``) on a block built with BatchNorm layers, which the
    file never puts in eval mode: the whole block's weights are frozen but its BatchNorm
    statistics keep following the new data in training mode (a warning: the layers are
    frozen as part of a larger block)."""
    src = model.src
    if "requires_grad" not in src.source or "BatchNorm" not in src.source and \
            not _TV_BN_MODEL.search(src.source.replace("(", "\n")):
        return
    done: set[int] = set()
    for call in src.of(ast.Call):
        # net.dense_bn.requires_grad_(False), dense_bn a BatchNorm layer of the file
        if isinstance(call.func, ast.Attribute) and call.func.attr == "requires_grad_" and \
                call.args and isinstance(call.args[0], ast.Constant) and \
                call.args[0].value is False and (target := _receiver(call.func.value)) and \
                "." in target and _is_bn_layer(model, target) and \
                not _trained_in_eval(model, target) and call.lineno not in done:
            done.add(call.lineno)
            yield Finding(
                "MG302",
                f"{target} (a BatchNorm layer) is frozen with requires_grad_(False), but nothing "
                "puts it in eval mode: its running statistics keep updating in training mode",
                path=src.path, line=call.lineno, col=0,
                hint=f"also freeze the statistics: {target}.eval() after every model.train(), "
                     "or modeguard.freeze_bn(model)")
    for loop in src.of(ast.For):
        it = loop.iter
        if not (isinstance(it, ast.Call) and isinstance(it.func, ast.Attribute) and
                it.func.attr in ("parameters", "named_parameters")):
            continue
        var = loop.target.elts[-1] if isinstance(loop.target, ast.Tuple) else loop.target
        if not isinstance(var, ast.Name):
            continue
        line = next((n.lineno for stmt in loop.body for n in ast.walk(stmt)
                     if isinstance(n, ast.Assign) and any(
                         isinstance(t, ast.Attribute) and t.attr == "requires_grad" and
                         dotted(t.value) == var.id for t in n.targets) and
                     isinstance(n.value, ast.Constant) and n.value.value is False), None)
        if line is None or line in done or any(isinstance(n, ast.If) for stmt in loop.body
                                               for n in ast.walk(stmt)):
            continue  # (a selection by name or type: the other MG302 check reads those)
        owner = _receiver(it.func.value)
        targets = _block_targets(model, loop, owner) if owner else []
        if targets and any(_has_bn(model, t) for t in targets) and \
                not any(_trained_in_eval(model, t) or _MOMENTUM_COPY.search(t) or
                        _averaged(src, t) for t in targets):
            done.add(line)
            yield Finding(
                "MG302",
                f"every parameter of {', '.join(targets)} (BatchNorm layers included) is frozen "
                "with requires_grad=False, but nothing puts its BatchNorm layers in eval mode: "
                "their running statistics keep updating in training mode",
                path=src.path, line=line, col=0, severity=Severity.WARNING,
                hint="also freeze the statistics: modeguard.freeze_bn(block) does both and "
                     "survives model.train()")


# teachers, target and momentum networks: weights written from another network (or frozen
# beside it), their batch statistics are the recipe's business (MG102 judges their forwards)
_MOMENTUM_COPY = re.compile(r"(^|[._])(teacher|target|momentum|key_encoder|encoder_k|model_k|"
                            r"ema|swa|averaged|avg)\w*$", re.I)


def _averaged(src: SourceFile, target: str) -> bool:
    """Weights of ``target`` (or of a name bound to it) are written from another network's in
    a ``zip(a.parameters(), b.parameters())`` loop (an EMA / momentum update)."""
    if "zip(" not in src.source:
        return False
    head = target.split(".", 1)[0]
    names = {head} | {dotted(t) or "" for n in src.of(ast.Assign) for t in n.targets
                      if _head(_strip_chain(n.value)) == head}  # teacher_without_ddp = teacher
    for call in src.of(ast.Call):
        if isinstance(call.func, ast.Name) and call.func.id == "zip" and len(call.args) >= 2:
            heads = {_head(a.func.value) for a in call.args if isinstance(a, ast.Call) and
                     isinstance(a.func, ast.Attribute) and a.func.attr == "parameters"}
            if names & heads and len(heads) >= 2:
                return True
    return False


def _block_targets(model: FileModel, loop: ast.For, owner: str) -> list[str]:
    """What ``owner`` (the receiver of ``.parameters()``) stands for: itself, the items of a
    literal tuple an enclosing loop walks, or the module an enclosing ``.modules()`` loop
    walks."""
    for outer in model.src.of(ast.For):
        if outer is loop or not (outer.lineno < loop.lineno <= (outer.end_lineno or 0)):
            continue
        names = _loop_aliases(outer).get(owner)
        if names:
            return names
        it = outer.iter
        if isinstance(outer.target, ast.Name) and outer.target.id == owner and \
                isinstance(it, ast.Call) and isinstance(it.func, ast.Attribute) and \
                it.func.attr in ("modules", "children") and (r := _receiver(it.func.value)):
            return [r]
    return [owner]


def _has_bn(model: FileModel, target: str) -> bool:
    """The block was built with BatchNorm layers: an assignment of it (or of an attribute of
    the same name) builds BatchNorm, a function of this file that builds it, or a torchvision
    model that has it."""
    src = model.src
    attr = target.rsplit(".", 1)[-1]
    builders = {f.name for f in src.tree.body if isinstance(f, ast.FunctionDef) and
                "BatchNorm" in src.text_of(f)}
    for node in src.of(ast.Assign):
        for t in node.targets:
            name = dotted(t)
            if name is None or not (name == target or "." in target and
                                    name.rsplit(".", 1)[-1] == attr and "." in name):
                continue
            text = src.text_of(node.value)
            if "BatchNorm" in text:
                return True
            value = _strip_chain(node.value)
            if isinstance(value, ast.Call):
                called = src.imports.resolve(value.func) or dotted(value.func) or ""
                if called in builders or called.startswith("torchvision.models") and \
                        _TV_BN_MODEL.search(called):
                    return True
                if called in model.classes and model.class_sensitive(called, set()) and \
                        any("BatchNorm" in src.text_of(c) for c in src.of(ast.ClassDef)
                            if c.name == called):
                    return True
    return False


def _is_bn_layer(model: FileModel, target: str) -> bool:
    """``target`` (or an attribute of that name) is assigned a BatchNorm layer in the file."""
    attr = target.rsplit(".", 1)[-1]
    for node in model.src.of(ast.Assign):
        value = _strip_chain(node.value)
        if not isinstance(value, ast.Call) or not _BN_NAMES.search(dotted(value.func) or ""):
            continue
        if any((name := dotted(t)) is not None and (name == target or
                                                   name.rsplit(".", 1)[-1] == attr)
               for t in node.targets):
            return True
    return False


def _trained_in_eval(model: FileModel, target: str) -> bool:
    """The block is put in eval mode, or a function that steps or runs backward puts a model
    holding it in eval mode (a linear probe trains on top of frozen statistics on purpose)."""
    for call in model.src.of(ast.Call):
        mode = _mode_call(call)
        if mode is None or mode[1] != EVAL:
            continue
        recv = mode[0]
        if recv == target or recv.startswith(target + "."):
            return True  # the block itself is put in eval (whether that lasts is MG301's)
        func = _owner_function(model, call.lineno)
        first = getattr(func, "lineno", 0)
        last = getattr(func, "end_lineno", 0) or 10**9
        if func is None or not any(first <= n <= last for n in model.gradient_lines):
            continue
        # a model put in eval and then stepped with no train() in between: the recipe trains
        # on frozen statistics (its model may hold the block under another name)
        flow = model.events(func.body)  # type: ignore[attr-defined]
        at = next((i for i, e in enumerate(flow) if e.kind == "mode" and
                   e.line == call.lineno and not e.via), None)
        if at is None:
            continue
        for e in flow[at + 1:]:
            if e.kind == "mode" and e.mode == TRAIN and (
                    e.recv == recv or recv.startswith(e.recv + ".")):
                break
            if e.kind in ("step", "backward"):
                return True
    return False


# ------------------------------------------------------------------ MG103


def _mg103(model: FileModel) -> Iterator[Finding]:
    """A function switches a model it was given (parameter or self attribute it did not
    create) to eval mode and returns without restoring the previous mode (opinionated)."""
    src = model.src
    freezes = {line for _, line in model.freezes}
    for name, func in model.scope_functions:
        if func.name == "__init__":
            continue  # a constructor that sets up the model it keeps: the object owns its mode
        if not any(_mode_call(c) for c in model.scope_calls.get(id(func), ())):
            continue  # no train()/eval() in its own statements
        final: dict[str, tuple[str, int]] = {}
        for ev in model.events(func.body, depth=4):  # this function's own statements only
            if ev.kind == "mode" and not ev.via:
                final[ev.recv] = (ev.mode, ev.line)
        if not any(mode == EVAL for mode, _ in final.values()):
            continue
        params = {a.arg for a in func.args.args if a.arg != "self"}
        created = _local_names(src, func)
        for recv, (mode, line) in final.items():
            head = recv.split(".", 1)[0]
            given = (head in params and head not in created) or recv.startswith("self.")
            if mode == EVAL and given and line not in freezes and name.split(".")[-1] not in (
                    "eval", "train", "eval_mode", "set_eval", "to_eval"):
                yield Finding(
                    "MG103",
                    f"{name.split('.')[-1]}() switches {recv}, which it did not create, to eval "
                    "mode and returns without restoring the previous mode",
                    path=src.path, line=line, col=0,
                    hint=f"save was = {recv}.training and call {recv}.train(was) before "
                         f"returning, or use modeguard.eval_mode({recv}) / inference({recv})")


# ------------------------------------------------------------------ entry point


def _mg102_in_other_files(model: FileModel,
                          scopes: list[tuple[str, list[ast.stmt]]]) -> Iterator[Finding]:
    """MG102 for an evaluation function of another linted file (``from eval import eval_net``)
    that this file calls with a model in training mode: reported at that function's forward."""
    src = model.src
    if model.project is None:
        return
    imported = src.imports.names

    def calls_evaluation(key: int) -> bool:  # an imported evaluation function called here
        return any(isinstance(c.func, ast.Name) and c.func.id in imported and
                   (_EVAL_SCOPE.match(c.func.id) or _EVALUATION_WORD.search(c.func.id) and
                    model.project is not None and model.project.mentions(
                        imported[c.func.id], _EVALUATION_TEXT, near=src.module))
                   for c in model.scope_calls.get(key, ()))

    keys = {"<module>": id(src.tree), **{n: id(f) for n, f in model.scope_functions}}
    for name, body in scopes:
        if not calls_evaluation(keys[name]):
            continue
        state: dict[str, str] = {}
        stepped = False
        for ev in model.events(body):
            if ev.kind == "mode":
                _set_mode(state, ev.recv, ev.mode)
            elif ev.kind == "step":
                stepped = True
            elif ev.kind == "evaluates":
                mode = _mode_of(state, ev.recv)
                if mode is None and (stepped or _trained_somewhere(model, ev.recv)):
                    mode = TRAIN  # a model that was trained and never switched: train mode
                if mode not in (TRAIN, RESTORED) or model.sensitive(ev.recv) is False:
                    continue
                yield Finding(
                    "MG102",
                    f"{ev.recv} is evaluated here in training mode (called from {src.path}:"
                    f"{ev.via}" + (", under no_grad" if ev.mode else "") + "): dropout stays "
                    "active and BatchNorm uses and updates batch statistics",
                    path=ev.path, line=ev.line, col=0,
                    related=(Location(src.path, ev.via, 0, "called in training mode from"),),
                    hint="call model.eval() in the evaluation function (and restore the mode "
                         "after), or use modeguard.inference(model)")
                scope = model.scope_lookup.get(name)
                if not ev.mode and not any(b.lineno <= ev.via <= (b.end_lineno or b.lineno)
                                           for b in model.no_grad_withs) and \
                        not (scope is not None and _decorated_no_grad(scope)) and \
                        not model.without_gradients(ev.recv):
                    # ... and with autograd on, here and at the call: a graph kept for nothing
                    yield Finding(
                        "MG401",
                        f"{ev.recv} is evaluated here with autograd enabled (called from "
                        f"{src.path}:{ev.via}, not under no_grad) and no backward: the graph "
                        "is kept for nothing",
                        path=ev.path, line=ev.line, col=0,
                        related=(Location(src.path, ev.via, 0, "called from"),),
                        hint="wrap the evaluation in torch.no_grad() (or "
                             "modeguard.inference(model))")


def _mg401_between_steps(model: FileModel,
                         scopes: list[tuple[str, list[ast.stmt]]]) -> Iterator[Finding]:
    """MG401 inside a training loop: ``net.eval()``, a forward of ``net`` with autograd on,
    then ``net.train()`` again before any backward or step (a validation pass written into
    the epoch loop). A forward in eval mode followed by a backward trains in eval mode on
    purpose (a linear probe, frozen BatchNorm): not this."""
    lookup = model.scope_lookup
    for name, body in scopes:
        func = lookup.get(name)
        if func is not None:
            first, last = func.lineno, func.end_lineno or func.lineno
            if _decorated_no_grad(func) or not any(
                    first <= n <= last for n in model.gradient_lines) or not any(
                    isinstance(c.func, ast.Attribute) and c.func.attr == "eval"
                    for c in model.scope_calls.get(id(func), ())):
                continue  # no step of its own, or no eval() of its own: most functions
        elif "eval()" not in model.src.source or not model.gradient_lines:
            continue
        flow = model.events(body)
        if not any(e.kind in ("step", "backward") for e in flow):
            continue
        state: dict[str, tuple[str, bool]] = {}
        reported: set[str] = set()
        for i, ev in enumerate(flow):
            if ev.kind == "mode":
                _set_mode(state, ev.recv, (ev.mode, bool(ev.via or ev.implicit or ev.copy)))
                continue
            if ev.kind != "forward" or ev.recv in reported or \
                    _mode_of(state, ev.recv) != (EVAL, False) or any(
                        b.lineno <= ev.line <= (b.end_lineno or b.lineno)
                        for b in model.no_grad_withs) or model.without_gradients(ev.recv):
                continue
            nxt = next((e for e in flow[i + 1:] if e.kind in ("step", "backward") or
                        e.kind == "mode" and (ev.recv == e.recv or
                                              ev.recv.startswith(e.recv + "."))), None)
            if nxt is None or nxt.kind != "mode" or nxt.mode not in (TRAIN, RESTORED):
                continue  # trained in eval mode on purpose, or evaluated after the last step
            reported.add(ev.recv)
            yield _keeps_graph(model.src.path, ev, "in eval mode ")


def _restored_then_run(model: FileModel,
                       scopes: list[tuple[str, list[ast.stmt]]]) -> Iterator[Finding]:
    """A model built here (``net = Net()``, in training mode like every new module), given
    trained weights with ``load_state_dict`` and then run with nothing putting it in eval
    mode and nothing training it afterwards: inference in training mode (MG102), and with
    autograd on unless under no_grad (MG401). The script that reloads a checkpoint to plot a
    few predictions."""
    src = model.src
    if ".load_state_dict(" not in src.source:
        return
    loads = [c for c in src.of(ast.Call) if isinstance(c.func, ast.Attribute) and
             c.func.attr == "load_state_dict"]
    lookup = model.scope_lookup
    unit_tests = bool(_TEST_FILE.search(src.path))
    for name, body in scopes:
        func = lookup.get(name)
        if unit_tests and name.split(".")[-1].startswith("test"):
            continue  # a unit test compares toy models in whatever mode it means to
        first = getattr(func, "lineno", 0) if func is not None else 0
        last = (getattr(func, "end_lineno", 0) or 10**9) if func is not None else 10**9
        here = {(_receiver(c.func.value) or ""): c.lineno for c in loads
                if first <= c.lineno <= last and (func is not None or _owner_function(
                    model, c.lineno) is None)}
        if not here:
            continue
        built = {}  # receivers assigned from a call in this scope: a new model
        for stmt in (body if func is None else [func]):
            for node in src.within(stmt, ast.Assign):
                value = _strip_chain(node.value)
                if len(node.targets) == 1 and isinstance(value, ast.Call) and \
                        (target := _receiver(node.targets[0])) in here:
                    built[target] = node.lineno
        flow = model.events(body)
        decorated = func is not None and _decorated_no_grad(func)
        for recv, line in built.items():
            known = model.sensitive(recv)
            if here[recv] < line or known is False or known is None and \
                    not _MODELISH.search(recv) or \
                    _trained_somewhere(model, recv) or any(
                        e.kind in ("step", "backward") and (e.via or e.line) > here[recv]
                        for e in flow):
                continue  # (trained after loading: resumed training, not inference)
            for ev in flow:
                if ev.kind == "mode" and (ev.recv == recv or recv.startswith(ev.recv + ".")):
                    break  # eval() (or an explicit train()) first
                if ev.kind == "forward" and ev.recv == recv and ev.line > here[recv]:
                    if _in_modeguard_ctx(src, func or src.tree, ev.line):
                        break
                    yield Finding(
                        "MG102",
                        f"{recv} is built here in training mode, given trained weights and run "
                        f"without eval(): dropout stays active and BatchNorm uses and updates "
                        "batch statistics",
                        path=src.path, line=ev.line, col=0,
                        severity=None if model.sensitive(recv) else Severity.WARNING,
                        hint=f"call {recv}.eval() after load_state_dict(), or use "
                             f"modeguard.inference({recv})")
                    if not decorated and not any(
                            b.lineno <= ev.line <= (b.end_lineno or b.lineno)
                            for b in model.no_grad_withs):
                        yield _keeps_graph(src.path, ev, "")
                    break


def check(src: SourceFile) -> Iterator[Finding]:
    model = FileModel(src)
    scopes = [("<module>", src.tree.body)] + [(n, f.body) for n, f in model.scope_functions]
    yield from _mg101(model, scopes)
    yield from _mg102_mg401(model)
    yield from _mg401_between_steps(model, scopes)
    yield from _restored_then_run(model, scopes)
    yield from _mg102_in_other_files(model, scopes)
    yield from _mg301(model)
    yield from _mg302(model)
    yield from _mg103(model)
