"""Small building blocks shared by several test files."""

from __future__ import annotations

from torch import nn


class RecordingTrain(nn.Module):
    """A module whose overridden train() records every mode it is asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.drop = nn.Dropout()
        self.calls: list[bool] = []

    def train(self, mode: bool = True):  # type: ignore[override]
        self.calls.append(mode)
        return super().train(mode)
