"""`modeguard lint` on real repositories, at commits with a known mode bug and at clean ones.

The cases come from the survey of real mode bugs (research notes: pytorch-fcn A1, ncsn A3,
vsepp A2, nanoGPT C1, deeplab-xception D1, indexnet_matting D2, PointMVSNet E2, semseg F1,
Pytorch-UNet B5, stacked hourglass E1, mmd A4). Each repository must be available as a git repository (a clone
or a bare mirror) under MIRROR/<owner>+<name>; the script exports the .py files of the commit
into a temporary folder (nothing is run), lints it with the default rules, one job, and prints
a markdown table: whether the known bug was found, and every other finding.

A second table, ``HELD_OUT``, holds cases of the same survey that no rule was written against.

Run:  .venv/bin/python benchmarks/lint_real_repos.py --mirror /path/to/mirrors [--only held-out]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from modeguard.lint.engine import Config, lint_paths

# (repository, commit, expected (path, code, line or None), note)
CASES = [
    ("wkentaro/pytorch-fcn", "479b9e0", [("torchfcn/trainer.py", "MG101", 88)], "A1"),
    ("ermongroup/ncsn", "80899cd", [("runners/anneal_runner.py", "MG101", 158),
                                    ("runners/baseline_runner.py", "MG101", 141)], "A3"),
    ("fartashf/vsepp", "175b897", [("model.py", "MG101", None)], "A2 (val_start() eval lines)"),
    ("karpathy/nanoGPT", "c3f25484", [("model.py", "MG202", 72)], "C1"),
    ("jfzhang95/pytorch-deeplab-xception", "28ef1a6e", [("modeling/deeplab.py", "MG301", None)],
     "D1, freeze in the constructor"),
    ("jfzhang95/pytorch-deeplab-xception", "HEAD", [("modeling/deeplab.py", "MG104", None)],
     "D1, flag shadows freeze_bn()"),
    ("poppinace/indexnet_matting", "HEAD", [("scripts/hlmobilenetv2.py", "MG301", None)], "D2"),
    ("callmeray/PointMVSNet", "HEAD", [("pointmvsnet/test.py", "MG102", None)], "E2"),
    ("hszhao/semseg", "HEAD", [("tool/train.py", "MG401", None)], "F1"),
    ("milesial/Pytorch-UNet", "1e8093d", [("eval.py", "MG102", None)],
     "B5, eval_net() called from train.py"),
    ("princeton-vl/pytorch_stacked_hourglass", "ed91059e", [("task/pose.py", "MG102", None)],
     "E1"),
    ("shubhamagarwal92/mmd", "e728278", [("train.py", "MG101", None)], "A4 (Python 2 file)"),
    # clean: the fixed commits and repositories without a known bug
    ("wkentaro/pytorch-fcn", "HEAD", [], "A1 fixed"),
    ("ermongroup/ncsn", "HEAD", [], "A3 fixed"),
    ("karpathy/nanoGPT", "HEAD", [], "C1 fixed"),
    ("fartashf/vsepp", "HEAD", [], "A2 behind --reset_train (path-insensitive: not seen)"),
    ("princeton-vl/pytorch_stacked_hourglass", "05244793", [], "E1 fixed"),
    ("princeton-vl/RAFT", "HEAD", [], "negative control (re-freeze)"),
    ("milesial/Pytorch-UNet", "HEAD", [], "B5 fixed"),
    ("pytorch/examples", "HEAD", [], "clean"),
]

# Held out: cases of the same survey that no rule was written or tuned against. Their expected
# file, code and line were fixed from the survey's description (the line where the statement
# a linter reports starts) before modeguard was first run on them (2026-12-02).
HELD_OUT = [
    ("lucidrains/DALLE2-pytorch", "79f388d1", [("train_diffusion_prior.py", "MG101", None)],
     "A10, eval() in a metrics helper called from the batch loop"),
    ("prokia/drugVQA", "b69ae4c2", [("trainAndTest.py", "MG102", 136)],
     "B7, test() under no_grad without eval()"),
    ("weirme/Video_Summary_using_FCSN", "0895cccb", [("make_dataset.py", "MG102", 111)],
     "B13, pretrained GoogLeNet as a feature extractor in train mode"),
    ("yxuansu/TaCL", "d92e47cf", [("pretraining/bert_contrastive.py", "MG102", None)],
     "B17, frozen teacher BERT inside the trained model"),
    ("meta-pytorch/torchtune", "57ab583c", [("torchtune/modules/attention.py", "MG202", 297)],
     "C6, dropout_p through an attention wrapper"),
    ("wenet-e2e/wenet", "1a94771d", [("wenet/transformer/attention.py", "MG202", 293),
                                     ("wenet/firered/attention.py", "MG202", 171)], "C7"),
    ("gentaiscool/end2end-asr-pytorch", "a22efdda", [("trainer/asr/trainer.py", "MG401", None)],
     "F3, validation loop without no_grad"),
    ("yusugomori/deeplearning-keras-tf2-torch", "08e7b1fb",
     [("4/20_mnist_dropout_tf.py", "MG502", 72)], "G10, Keras model(x) in GradientTape"),
    ("tk-rusch/coRNN", "ba26cee3", [], "A8 control: eval() never undone, but no dropout/BN"),
]

# The survey's false-positive controls (its section 9), at HEAD: code that is correct or
# deliberate, on which a linter should stay quiet. Also held out: first linted at commit
# "lint: fewer false positives and more real bugs..." (2026-12-02), after the fixes that
# HELD_OUT prompted. The one expected finding is Tacotron2's prenet dropout, deliberate and
# meant to be waived with a noqa comment.
CONTROLS = [
    ("isht7/pytorch-deeplab-resnet", "HEAD", [], "whole model trained in eval (frozen BN)"),
    ("filipradenovic/cnnimageretrieval-pytorch", "HEAD", [], "train() then BN back to eval"),
    ("jwyang/faster-rcnn.pytorch", "HEAD", [], "train() override re-freezes BN"),
    ("MILVLG/mcan-vqa", "HEAD", [], "evaluation builds a fresh network"),
    ("samet-akcay/ganomaly", "HEAD", [], "GAN evaluated in train mode on purpose"),
    ("facebookresearch/moco", "132aea9", [], "key encoder BN buffers unused (HEAD removed the code)"),
    ("timgaripov/swa", "HEAD", [], "bn_update on the separate SWA model"),
    ("facebookresearch/denoiser", "HEAD", [], "DDP wrapper shares the model"),
    ("joeynmt/joeynmt", "HEAD", [], "trainer resets the mode itself"),
    ("jadore801120/attention-is-all-you-need-pytorch", "HEAD", [], "nn.Dropout modules"),
    ("wenwenyu/PICK-pytorch", "HEAD", [], "functional dropout with training="),
    ("BogiHsu/Tacotron2-PyTorch", "HEAD", [("model/model.py", "MG201", None)],
     "prenet dropout always on, on purpose (to be waived)"),
    ("ugent-korea/pytorch-unet-segmentation", "HEAD", [], "no dropout or BatchNorm"),
    ("BCV-Uniandes/DMS", "9fa3a3a2", [], "train-mode evaluation on purpose"),
]

# Fresh: popular training repositories at HEAD, first linted after every change above
# (commit "lint: false positives found on the survey's control repositories removed"); no
# expectation: every finding is read by hand and counted true or false in RESULTS.md.
FRESH = [
    ("yunjey/pytorch-tutorial", "HEAD", [], "tutorials"),
    ("fxia22/pointnet.pytorch", "HEAD", [], "B6 upstream (fixed)"),
    ("wolny/pytorch-3dunet", "HEAD", [], "B9 upstream"),
    ("SeanNaren/deepspeech.pytorch", "HEAD", [], "B8 upstream (fixed)"),
    ("nshaud/DeepHyperX", "HEAD", [], "B2 upstream"),
    ("kuangliu/pytorch-cifar", "HEAD", [], "classification"),
    ("eriklindernoren/PyTorch-GAN", "HEAD", [], "GANs"),
    ("facebookresearch/detr", "HEAD", [], "detection"),
    ("lucidrains/vit-pytorch", "HEAD", [], "model library"),
    ("huggingface/pytorch-image-models", "HEAD", [], "model library and scripts"),
]

# A second fresh group, first linted at commit "lint: fixes from a fresh set of popular
# repositories" with no change made afterwards: the first-contact measurement of that version.
FRESH2 = [
    ("karpathy/minGPT", "HEAD", [], "GPT training"),
    ("facebookresearch/mae", "HEAD", [], "MAE pretraining, finetuning, linear probe"),
    ("facebookresearch/dino", "HEAD", [], "self-distillation"),
    ("facebookresearch/moco-v3", "HEAD", [], "contrastive pretraining, linear probe"),
    ("openai/CLIP", "HEAD", [], "inference library"),
    ("ultralytics/yolov5", "HEAD", [], "detection training"),
    ("lucidrains/denoising-diffusion-pytorch", "HEAD", [], "diffusion"),
    ("jacobgil/pytorch-grad-cam", "HEAD", [], "explainability (gradients in eval)"),
]

# A third fresh group, first linted at commit "results: fixture count" (session of 2026-12-02,
# before any change that session made): the first-contact measurement of that version.
FRESH3 = [
    ("facebookresearch/deit", "HEAD", [], "ViT training with distillation"),
    ("facebookresearch/ConvNeXt", "HEAD", [], "classification training, EMA"),
    ("microsoft/Swin-Transformer", "HEAD", [], "classification training"),
    ("clovaai/deep-text-recognition-benchmark", "HEAD", [], "text recognition"),
    ("facebookresearch/simsiam", "HEAD", [], "self-supervised, linear probe"),
    ("sthalles/SimCLR", "HEAD", [], "self-supervised"),
    ("KaiyangZhou/deep-person-reid", "HEAD", [], "re-identification library"),
    ("openai/improved-diffusion", "HEAD", [], "diffusion training"),
    ("NVlabs/stylegan2-ada-pytorch", "HEAD", [], "GAN training"),
    ("mlfoundations/open_clip", "HEAD", [], "CLIP training"),
    ("facebookresearch/swav", "HEAD", [], "self-supervised, linear eval"),
    ("qubvel/segmentation_models.pytorch", "HEAD", [], "segmentation model library"),
    ("bentrevett/pytorch-sentiment-analysis", "HEAD", [], "tutorial scripts"),
]


def git_dir(mirror: Path, repo: str) -> Path:
    base = mirror / repo.replace("/", "+")
    for candidate in (base / "repo" / ".git", base / "repo", base / ".git", base):
        if (candidate / "HEAD").is_file():
            return candidate
    raise FileNotFoundError(f"{repo}: no git repository under {base}")


def export(git: Path, commit: str, dest: Path) -> int:
    """The commit's .py files under ``dest`` (``git archive``: one process for the whole tree)."""
    # only the .py blobs: a mirror may lack a repository's large data files
    proc = subprocess.run(["git", f"--git-dir={git}", "archive", "--format=tar", commit,
                           "--", ":(glob)**/*.py"], capture_output=True)
    if proc.returncode != 0:
        if b"did not match any files" in proc.stderr:
            return 0
        raise RuntimeError(f"git archive {commit} failed: {proc.stderr.decode()[-500:]}")
    archive = proc.stdout
    import io
    import tarfile

    count = 0
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        for member in tar.getmembers():
            if member.isfile() and member.name.endswith(".py"):
                data = tar.extractfile(member)
                if data is not None:
                    (dest / member.name).parent.mkdir(parents=True, exist_ok=True)
                    (dest / member.name).write_bytes(data.read())
                    count += 1
    return count


def table(cases: list, mirror: Path) -> tuple[int, int]:
    import os

    print("| repository @ commit | case | .py files | known bug found | other findings |")
    print("|---|---|---|---|---|")
    found_total = expected_total = 0
    for repo, commit, expected, note in cases:
        try:
            git = git_dir(mirror, repo)
        except FileNotFoundError as exc:
            print(f"| {repo} @ {commit} | {note} | - | not available: {exc} | |", file=sys.stderr)
            continue
        with tempfile.TemporaryDirectory() as tmp:
            files = export(git, commit, Path(tmp))
            here = os.getcwd()
            os.chdir(tmp)
            try:
                result = lint_paths(["."], jobs=1, config=Config())
            finally:
                os.chdir(here)
        got = [(f.path, f.code, f.line) for f in result.findings]
        hits = [e for e in expected
                if any(p == e[0] and c == e[1] and (e[2] is None or ln == e[2]) for p, c, ln in got)]
        found_total += len(hits)
        expected_total += len(expected)
        matched = {g for g in got for e in hits
                   if g[0] == e[0] and g[1] == e[1] and (e[2] is None or g[2] == e[2])}
        others = ", ".join(f"{p}:{ln} {c}" for p, c, ln in got if (p, c, ln) not in matched)
        status = "-" if not expected else f"{len(hits)}/{len(expected)}"
        diag = f" ({len(result.diagnostics)} unparsable)" if result.diagnostics else ""
        print(f"| {repo} @ {commit} | {note} | {files}{diag} | {status} | {others or 'none'} |",
              flush=True)
    return found_total, expected_total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mirror", type=Path, required=True)
    parser.add_argument("--only", choices=["survey", "held-out", "controls", "fresh",
                                           "fresh2", "fresh3"], default=None)
    args = parser.parse_args()
    for name, cases in (("survey", CASES), ("held-out", HELD_OUT), ("controls", CONTROLS),
                        ("fresh", FRESH), ("fresh2", FRESH2), ("fresh3", FRESH3)):
        if args.only in (None, name):
            found, expected = table(cases, args.mirror)
            print(f"\n{name}: known bugs found: {found} of {expected}\n")

if __name__ == "__main__":
    main()
