#!/usr/bin/env bash
# Rebuild every committed weights file, in the order the app needs them most.
# Each line is also recorded in weights/manifest.json beside its result.
# Usage: DENOISER_DATA_DIR=../shared/datasets bash training/train_all.sh > runs/train_all.log 2>&1
set -euo pipefail
train() { python -m training.train "$@"; }

train --dataset cifar10 --model latent_ae --noise none --epochs 4 --steps-per-epoch 200  # MNIST's: study.sh
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
# Issue 13: the sharp (GAN) denoiser, the Gaussian specialist fine-tuned against a PatchGAN discriminator,
# and the classifier that judges its realism in training.evaluate (accuracy, Fréchet distance).
python -m training.classifier --dataset cifar10
train --dataset cifar10 --model res_unet_gan --noise gaussian --augment --epochs 10 --steps-per-epoch 100 \
  --batch-size 32 --learning-rate 2e-4 --adversarial-weight 0.03 --init-from weights/cifar10/res_unet_gaussian.keras
for d in mnist fashion_mnist; do  # the same GAN on the digits and clothes, reported beside CIFAR-10's
  train --dataset "$d" --model res_unet_gan --noise gaussian --epochs 10 --steps-per-epoch 100 --batch-size 32 \
    --learning-rate 2e-4 --adversarial-weight 0.03 --init-from "weights/$d/res_unet_gaussian.keras" --jit-compile
done
for d in cifar10 mnist fashion_mnist; do python -m training.crops --dataset "$d"; done  # the About tab's crops
# Issue 10: the photo Gaussian specialist, CIFAR-10's fine-tuned on 96x96 patches of the 380 training photos
# (hours on a CPU: it checkpoints every epoch, and the same command resumes it).
train --dataset photos --model res_unet_gaussian --noise gaussian --level-min 0 --level-max 0.3 --epochs 30 \
  --steps-per-epoch 100 --eval-images 20 --loss psnr --learning-rate 2e-4 --init-from weights/cifar10/res_unet_gaussian.keras \
  --jit-compile
train --dataset photos --model res_unet_gaussian --noise gaussian --level-min 0 --level-max 0.3 --epochs 8 \
  --steps-per-epoch 100 --eval-images 20 --loss psnr --learning-rate 2e-4 --init-from weights/photos/res_unet_gaussian.keras \
  --jit-compile --runs-dir runs/stage2  # a second stage, from the first: its own runs folder, so it does not resume the first
train --dataset photos --model res_unet_gaussian --noise gaussian --level-min 0 --level-max 0.3 --epochs 10 \
  --steps-per-epoch 100 --eval-images 20 --loss psnr --learning-rate 2e-4 --init-from weights/photos/res_unet_gaussian.keras \
  --jit-compile --runs-dir runs/stage3  # a third, the same way
train --dataset photos --model res_unet_gaussian --noise gaussian --level-min 0 --level-max 0.3 --epochs 8 \
  --steps-per-epoch 100 --eval-images 20 --loss psnr --learning-rate 5e-5 --init-from weights/photos/res_unet_gaussian.keras \
  --jit-compile --runs-dir runs/stage4  # and a fourth at a quarter of the rate
# A fifth, sixth and seventh on 128x128 and 160x160 patches, run on a lent H200 under KERAS_BACKEND=jax with
# --train-only and scored here by the same command (README, Training on a GPU machine without TensorFlow); on this
# CPU, hours each.
photo_stage="--dataset photos --noise gaussian --level-min 0 --level-max 0.3 --steps-per-epoch 200 --batch-size 64
  --eval-images 20 --loss psnr"
train $photo_stage --model res_unet_gaussian --epochs 16 --patch-size 128 --learning-rate 2e-4 \
  --init-from weights/photos/res_unet_gaussian.keras --runs-dir runs/gpu5
train $photo_stage --epochs 8 --patch-size 128 --model res_unet_gaussian --learning-rate 1e-4 \
  --init-from weights/photos/res_unet_gaussian.keras --runs-dir runs/gpu6
train $photo_stage --patch-size 160 --model res_unet_gaussian --epochs 12 --learning-rate 1e-4 \
  --init-from weights/photos/res_unet_gaussian.keras --runs-dir runs/gpu7
# ... and the photo all-rounder, CIFAR-10's all-rounder fine-tuned on the same patches with the mix of noise kinds.
train --dataset photos --model res_unet --noise mix --epochs 6 --steps-per-epoch 100 --eval-images 20 --loss psnr \
  --learning-rate 2e-4 --init-from weights/cifar10/res_unet.keras --jit-compile
train --dataset photos --model res_unet --noise mix --epochs 6 --steps-per-epoch 100 --eval-images 20 --loss psnr \
  --learning-rate 2e-4 --init-from weights/photos/res_unet.keras --jit-compile --runs-dir runs/allround2  # a second stage
photo_mix=${photo_stage/--noise gaussian --level-min 0 --level-max 0.3/--noise mix}  # the same, on the mix of kinds
train $photo_mix --model res_unet --epochs 16 --patch-size 128 --learning-rate 2e-4 \
  --init-from weights/photos/res_unet.keras --runs-dir runs/gpuallround  # on the H200, as above
train $photo_mix --model res_unet --epochs 6 --patch-size 128 --learning-rate 1e-4 \
  --init-from weights/photos/res_unet.keras --runs-dir runs/allround4  # on this CPU
train $photo_mix --patch-size 128 --model res_unet --epochs 18 --learning-rate 1e-4 \
  --init-from weights/photos/res_unet.keras --runs-dir runs/gpuallround2  # and two more on the H200
train $photo_mix --patch-size 128 --model res_unet --epochs 22 --learning-rate 5e-5 \
  --init-from weights/photos/res_unet.keras --runs-dir runs/gpuallround3
train $photo_mix --patch-size 128 --model res_unet --epochs 6 --learning-rate 5e-5 \
  --init-from weights/photos/res_unet.keras --runs-dir runs/allround7  # and a seventh and eighth on this CPU
train $photo_mix --patch-size 128 --model res_unet --epochs 6 --learning-rate 5e-5 \
  --init-from weights/photos/res_unet.keras --runs-dir runs/allround8
bash training/study.sh  # the study's models, trained to convergence, with its figures and tables
