"""Beam-search decoding and corpus BLEU for the distillation experiments."""
import sacrebleu
import torch


def beam_decode(net, src, bos, eos, beam=4, max_len=200, alpha=0.6):
    memory, src_pad = net.encode(src)
    beams = [(torch.tensor([[bos]], device=src.device), 0.0)]
    finished = []
    for _ in range(max_len):
        pool = []
        for seq, score in beams:
            logp = net.decode(seq, memory, src_pad)[0, -1].log_softmax(-1)
            vals, idx = logp.topk(beam)
            for v, i in zip(vals.tolist(), idx.tolist()):
                pool.append((torch.cat([seq, seq.new_tensor([[i]])], dim=1), score + v))
        pool.sort(key=lambda c: c[1], reverse=True)
        beams = []
        for seq, score in pool[:beam]:
            if seq[0, -1].item() == eos:
                finished.append((seq, score / (((5 + seq.size(1)) / 6) ** alpha)))
            else:
                beams.append((seq, score))
        if len(finished) >= beam or not beams:
            break
    if not finished:
        finished = [(s, sc / (((5 + s.size(1)) / 6) ** alpha)) for s, sc in beams]
    best = max(finished, key=lambda c: c[1])[0][0, 1:].tolist()
    return [t for t in best if t != eos]


def corpus_bleu(net, loader, spm, device, beam=4):
    prev_mode = net.training
    net.eval()
    hyps, refs = [], []
    with torch.no_grad():
        for src, _, ref_text in loader:
            src = src.to(device)
            for i in range(src.size(0)):
                row = src[i:i + 1]
                row = row[:, : int(row.ne(net.pad_id).sum())]
                hyps.append(spm.decode(beam_decode(net, row, spm.bos_id(), spm.eos_id(), beam=beam)))
            refs.extend(ref_text)
    net.train(prev_mode)
    return sacrebleu.corpus_bleu(hyps, [refs]).score
