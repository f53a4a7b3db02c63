"""Writes what the state-dict test compares against: a torchvision resnet18 (seeded random weights, batch
norm statistics scrambled so they matter) as a state dict, an input batch of 0-255 RGB images, and the
pooled features torchvision computes for it after ImageNet normalisation.

usage: torchvision_resnet18.py OUT_DIR SEED"""
import pathlib
import sys

import torch
import torchvision

out, seed = pathlib.Path(sys.argv[1]), int(sys.argv[2])
torch.manual_seed(seed)
model = torchvision.models.resnet18()
for module in model.modules():
    if isinstance(module, torch.nn.BatchNorm2d):
        module.running_mean.uniform_(-0.5, 0.5)
        module.running_var.uniform_(0.5, 1.5)
        module.weight.data.uniform_(0.5, 1.5)
        module.bias.data.uniform_(-0.2, 0.2)
model.eval()
torch.save(model.state_dict(), out / "resnet18.pt")

images = torch.rand(2, 3, 224, 224) * 255
mean = torch.tensor([0.485, 0.456, 0.406]).reshape(1, 3, 1, 1)
std = torch.tensor([0.229, 0.224, 0.225]).reshape(1, 3, 1, 1)
model.fc = torch.nn.Identity()
with torch.no_grad():
    features = model(((images / 255) - mean) / std)
images.numpy().tofile(out / "input.bin")
features.numpy().tofile(out / "features.bin")
