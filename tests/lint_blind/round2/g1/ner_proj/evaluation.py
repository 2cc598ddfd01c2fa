"""Entity-level evaluation (CoNLL style) for the tagger."""
from collections import Counter

import torch
from seqeval.metrics import classification_report, f1_score
from seqeval.metrics.sequence_labeling import get_entities


@torch.no_grad()
def entity_f1(tagger, batches, tag_vocab, device, report=False):
    tagger.eval()
    gold, pred = [], []
    for words, chars, tags, mask in batches:
        paths = tagger(words.to(device), chars.to(device), mask.to(device))
        for p, t, m in zip(paths, tags.tolist(), mask.sum(1).tolist()):
            pred.append([tag_vocab.itos[i] for i in p])
            gold.append([tag_vocab.itos[i] for i in t[:m]])
    if report:
        print(classification_report(gold, pred, digits=4))
    return f1_score(gold, pred)


def boundary_errors(gold_seqs, pred_seqs):
    """Count entities whose type is right but whose span is off by at least one token."""
    counts = Counter()
    for g, p in zip(gold_seqs, pred_seqs):
        g_ents = {(t, s, e) for t, s, e in get_entities(g)}
        p_ents = {(t, s, e) for t, s, e in get_entities(p)}
        for t, s, e in p_ents - g_ents:
            if any(gt == t and not (e < gs or s > ge) for gt, gs, ge in g_ents):
                counts["boundary"] += 1
            elif any(gs == s and ge == e for _, gs, ge in g_ents):
                counts["type"] += 1
            else:
                counts["spurious"] += 1
        counts["missed"] += sum(1 for ge in g_ents
                                if not any(not (pe < ge[1] or ps > ge[2]) for _, ps, pe in p_ents))
    return dict(counts)


def write_conll(path, sentences, gold_seqs, pred_seqs):
    with open(path, "w", encoding="utf-8") as fh:
        for sent, g, p in zip(sentences, gold_seqs, pred_seqs):
            for w, gt, pt in zip(sent, g, p):
                fh.write(f"{w} {gt} {pt}\n")
            fh.write("\n")
