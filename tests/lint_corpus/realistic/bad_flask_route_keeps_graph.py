"""A Flask endpoint scoring candidates with a ranker loaded in eval mode at start-up; the
request handler runs it with autograd on, so every request builds a graph nobody uses."""
import torch
from flask import Flask, jsonify, request

from ranking import Ranker, featurize

app = Flask(__name__)
ranker = Ranker.load("ranker.pt")
ranker.eval()


@app.route("/rank", methods=["POST"])
def rank():
    feats = featurize(request.get_json(force=True))
    scores = ranker(feats)  # expect: MG401
    return jsonify(scores=torch.sigmoid(scores).detach().tolist())


@app.route("/healthz")
def healthz():
    return jsonify(status="ok")
