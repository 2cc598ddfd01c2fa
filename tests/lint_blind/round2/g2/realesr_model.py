"""Real-world SR model wrapper (BasicSR-like): generator + U-Net discriminator,
L1 + perceptual + GAN losses, validation on a held-out folder every N iters."""
import os
from collections import OrderedDict

import torch
import torch.nn.functional as F

from srlib.archs import define_network
from srlib.losses import PerceptualLoss, GANLoss
from srlib.metrics import calculate_psnr
from srlib.utils import tensor2img, imwrite


class RealESRModel:
    def __init__(self, opt):
        self.opt = opt
        self.device = torch.device("cuda")
        self.net_g = define_network(opt["network_g"]).to(self.device)
        self.net_d = define_network(opt["network_d"]).to(self.device)
        self.cri_pix = torch.nn.L1Loss()
        self.cri_perc = PerceptualLoss({"conv5_4": 1.0}).to(self.device)
        self.cri_gan = GANLoss("vanilla", loss_weight=0.1).to(self.device)
        self.opt_g = torch.optim.Adam(self.net_g.parameters(), lr=1e-4, betas=(0.9, 0.99))
        self.opt_d = torch.optim.Adam(self.net_d.parameters(), lr=1e-4, betas=(0.9, 0.99))
        self.log = OrderedDict()

    def feed(self, batch):
        self.lq = batch["lq"].to(self.device)
        self.gt = batch["gt"].to(self.device)

    def optimize_parameters(self, step):
        self.net_g.train()
        self.net_d.train()

        for p in self.net_d.parameters():
            p.requires_grad = False
        self.opt_g.zero_grad()
        self.output = self.net_g(self.lq)
        l_g = self.cri_pix(self.output, self.gt) + self.cri_perc(self.output, self.gt)
        l_g = l_g + self.cri_gan(self.net_d(self.output), True, is_disc=False)
        l_g.backward()
        self.opt_g.step()

        for p in self.net_d.parameters():
            p.requires_grad = True
        self.opt_d.zero_grad()
        l_d = self.cri_gan(self.net_d(self.gt), True, is_disc=True)
        l_d = l_d + self.cri_gan(self.net_d(self.output.detach()), False, is_disc=True)
        l_d.backward()
        self.opt_d.step()
        self.log["l_g"], self.log["l_d"] = l_g.item(), l_d.item()

    def validation(self, loader, step, save_img=False):
        self.net_g.eval()
        psnrs = []
        with torch.no_grad():
            for batch in loader:
                lq = batch["lq"].to(self.device)
                sr = self.net_g(lq)
                sr_img, gt_img = tensor2img(sr), tensor2img(batch["gt"])
                psnrs.append(calculate_psnr(sr_img, gt_img, crop_border=4))
                if save_img:
                    name = os.path.splitext(os.path.basename(batch["lq_path"][0]))[0]
                    imwrite(sr_img, os.path.join(self.opt["vis_dir"], f"{name}_{step}.png"))
        return sum(psnrs) / len(psnrs)


def train_loop(opt, train_loader, val_loader):
    model = RealESRModel(opt)
    step = 0
    while step < opt["total_iter"]:
        for batch in train_loader:
            step += 1
            model.feed(batch)
            model.optimize_parameters(step)
            if step % opt["print_freq"] == 0:
                print(step, dict(model.log))
            if step % opt["val_freq"] == 0:
                psnr = model.validation(val_loader, step, save_img=step % (5 * opt["val_freq"]) == 0)
                print(f"[val] iter {step} PSNR {psnr:.3f}")
            if step >= opt["total_iter"]:
                break
    torch.save(model.net_g.state_dict(), os.path.join(opt["exp_dir"], "net_g_final.pth"))
