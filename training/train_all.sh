#!/usr/bin/env bash
# Rebuild every committed weights file, in the order the app needs them most.
# Each line is also recorded in weights/manifest.json beside its result.
# Usage: DENOISER_DATA_DIR=../shared/datasets bash training/train_all.sh > runs/train_all.log 2>&1
set -euo pipefail
train() { python -m training.train "$@"; }

for d in mnist fashion_mnist cifar10; do
  train --dataset "$d" --model latent_ae --noise none --epochs 4 --steps-per-epoch 200
done
train --dataset mnist --model res_unet --noise mix --epochs 8 --steps-per-epoch 300
# Gaussian specialists (what the app runs for Gaussian noise): the all-rounder fine-tuned on Gaussian
# noise alone, with the per-image PSNR loss so that sigma 0.1 counts as much as sigma 0.5.
train --dataset mnist --model res_unet_gaussian --noise gaussian --epochs 12 --steps-per-epoch 300 \
  --learning-rate 5e-4 --loss psnr --init-from weights/mnist/res_unet.keras
train --dataset mnist --model res_unet_gaussian --noise gaussian --epochs 4 --steps-per-epoch 300 \
  --learning-rate 2e-4 --loss psnr --init-from weights/mnist/res_unet_gaussian.keras
for round in 1 2 3; do  # three more short rounds at a low rate: each added 0.02 to 0.04 dB
  train --dataset mnist --model res_unet_gaussian --noise gaussian --epochs 5 --steps-per-epoch 300 \
    --learning-rate 2e-4 --loss psnr --init-from weights/mnist/res_unet_gaussian.keras
done
train --dataset fashion_mnist --model res_unet --noise mix --epochs 8 --steps-per-epoch 300
train --dataset fashion_mnist --model res_unet --noise mix --epochs 4 --steps-per-epoch 300 \
  --learning-rate 3e-4 --init-from weights/fashion_mnist/res_unet.keras
train --dataset fashion_mnist --model res_unet_gaussian --noise gaussian --epochs 4 --steps-per-epoch 300 \
  --learning-rate 5e-4 --loss psnr --init-from weights/fashion_mnist/res_unet.keras
train --dataset cifar10 --model res_unet --noise mix --augment --epochs 6 --steps-per-epoch 300
train --dataset cifar10 --model res_unet_gaussian --noise gaussian --augment --epochs 12 --steps-per-epoch 300 \
  --learning-rate 5e-4 --loss psnr --init-from weights/cifar10/res_unet.keras
train --dataset cifar10 --model res_unet --noise mix --augment --epochs 4 --steps-per-epoch 300 \
  --learning-rate 3e-4 --loss psnr --init-from weights/cifar10/res_unet.keras
for d in mnist fashion_mnist; do
  for m in cnn_pool cnn_dense cnn_unpadded cnn_deep; do
    train --dataset "$d" --model "$m" --noise gaussian --level-min 0 --level-max 0.5 --epochs 2 --steps-per-epoch 400
  done
done
for m in cnn_pool cnn_dense cnn_unpadded cnn_deep cnn_dense_large; do
  train --dataset cifar10 --model "$m" --noise gaussian --level-min 0 --level-max 0.5 --epochs 2 --steps-per-epoch 250
done
python -m training.diagnose --dataset cifar10 --model cnn_dense --steps 500
