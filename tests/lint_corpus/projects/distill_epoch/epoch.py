"""A training epoch with an optional distillation teacher: the teacher is put in eval mode
at the top and only ever run under no_grad; the student is put in train mode and stepped.
The teacher's eval() is not undone, on purpose: it is never trained."""
import torch
import torch.nn.functional as F


def distill_epoch(student, teacher, loader, optimizer, use_teacher, tau=2.0):
    student.train()
    if use_teacher:
        teacher.eval()
    for images, labels in loader:
        logits = student(images)
        loss = F.cross_entropy(logits, labels)
        if use_teacher:
            with torch.no_grad():
                soft = teacher(images)
            loss = loss + tau * tau * F.kl_div(F.log_softmax(logits / tau, -1),
                                               F.softmax(soft / tau, -1), reduction="batchmean")
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

