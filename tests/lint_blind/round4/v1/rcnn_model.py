"""Two-stage detector wrapper around a ResNet-FPN trunk (Faster R-CNN style)."""
import torch
import torch.nn as nn
import torchvision
from torchvision.ops import MultiScaleRoIAlign, FeaturePyramidNetwork

from .rpn import RegionProposalNetwork
from .roi_heads import BoxHead, BoxPredictor, postprocess_detections


class ResNetTrunk(nn.Module):
    def __init__(self, depth=50, frozen_stages=1):
        super().__init__()
        ctor = {50: torchvision.models.resnet50, 101: torchvision.models.resnet101}[depth]
        r = ctor(weights="IMAGENET1K_V1")
        self.stem = nn.Sequential(r.conv1, r.bn1, r.relu, r.maxpool)
        self.stages = nn.ModuleList([r.layer1, r.layer2, r.layer3, r.layer4])
        self.out_channels = [256, 512, 1024, 2048]
        self.frozen_stages = frozen_stages
        self._freeze_params()

    def _freeze_params(self):
        blocks = [self.stem] + list(self.stages[:self.frozen_stages])
        for b in blocks:
            for m in b.modules():
                if isinstance(m, nn.Conv2d):
                    m.weight.requires_grad_(False)

    def forward(self, x):
        x = self.stem(x)
        feats = []
        for stage in self.stages:
            x = stage(x)
            feats.append(x)
        return feats


class TwoStageDetector(nn.Module):
    def __init__(self, num_classes, depth=50, frozen_stages=1, norm_eval=True):
        super().__init__()
        self.trunk = ResNetTrunk(depth, frozen_stages)
        self.fpn = FeaturePyramidNetwork(self.trunk.out_channels, 256)
        self.rpn = RegionProposalNetwork(256, anchor_sizes=(32, 64, 128, 256, 512))
        self.roi_align = MultiScaleRoIAlign(["0", "1", "2", "3"], 7, 2)
        self.box_head = BoxHead(256 * 7 * 7, 1024)
        self.box_predictor = BoxPredictor(1024, num_classes)
        self.norm_eval = norm_eval

    def _bn_to_eval(self):
        for m in self.trunk.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.eval()

    def train(self):  # expect: MG104
        super().train()
        if self.norm_eval:
            self._bn_to_eval()
        return self

    def forward(self, images, targets=None):
        feats = self.trunk(images.tensors)
        fpn_out = self.fpn({str(i): f for i, f in enumerate(feats)})
        proposals, rpn_losses = self.rpn(images, fpn_out, targets)
        if self.training:
            proposals, matched = self.rpn.sample_for_roi(proposals, targets)
        box_feats = self.roi_align(fpn_out, proposals, images.image_sizes)
        box_feats = self.box_head(box_feats)
        cls_logits, box_deltas = self.box_predictor(box_feats)

        if self.training:
            labels, reg_targets = matched
            loss_cls = nn.functional.cross_entropy(cls_logits, labels)
            pos = labels > 0
            loss_box = nn.functional.smooth_l1_loss(
                box_deltas.view(len(labels), -1, 4)[pos, labels[pos]],
                reg_targets[pos], beta=1.0 / 9, reduction="sum") / max(labels.numel(), 1)
            losses = {"loss_classifier": loss_cls, "loss_box_reg": loss_box}
            losses.update(rpn_losses)
            return losses
        return postprocess_detections(cls_logits, box_deltas, proposals, images.image_sizes)


def build_detector(cfg):
    model = TwoStageDetector(cfg.num_classes, cfg.depth, cfg.frozen_stages, cfg.norm_eval)
    if cfg.weights:
        state = torch.load(cfg.weights, map_location="cpu")
        missing, unexpected = model.load_state_dict(state, strict=False)
        print("missing:", len(missing), "unexpected:", len(unexpected))
    return model
