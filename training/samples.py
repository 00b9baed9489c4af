"""Write the app's built-in samples: the first test images of each small dataset, with labels and provenance.

    DENOISER_DATA_DIR=../shared/datasets python -m training.samples

Writes `denoiser/data/samples.npz` and `denoiser/data/README.md` (what the file holds, where
it comes from, under which licence). Run it again only when the datasets change.
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import numpy as np

from denoiser.datasets import DATASETS, load_dataset
from denoiser.samples import MAX_IMAGES, SAMPLED, SAMPLES_FILE, key

SOURCES = {
    "mnist": "MNIST (LeCun, Cortes and Burges), test split in the official order; from the lossless PNG "
             "conversion rasbt/mnist-pngs, MIT licence (MNIST itself: CC BY-SA 3.0, Yann LeCun and Corinna Cortes)",
    "fashion_mnist": "Fashion-MNIST (Xiao, Rasul and Vollgraf, 2017), test split shuffled with a fixed seed "
                     "(../shared/datasets/README.md); Zalando Research, MIT licence",
    "cifar10": "CIFAR-10 (Krizhevsky, 2009), test split in the official order; from the PNG conversion of the "
               "CIFAR-10 python batches, freely distributed by its authors for research and teaching",
}

README = """# Built-in samples

`samples.npz` holds the first {count} test images of MNIST, Fashion-MNIST and CIFAR-10, so
that the app's Sample buttons and Latent tab work on any machine, offline and at once, and
tests can check the models without the full datasets. It is the one exception to the
project's rule that dataset images are never committed (../shared/datasets/README.md): at
most 100 test images per dataset, {size_kib:.0f} KiB in all. The natural photos (BSDS500)
are never included.

Written by `python -m training.samples` from the datasets in the layout of
`keras.datasets` (`DENOISER_DATA_DIR`); nothing in it is edited by hand. Arrays, per dataset:
`<dataset>/images` (uint8, as in `x_test`), `<dataset>/labels` (as in `y_test`),
`<dataset>/indices` (each image's position in the test split).

| dataset | images | shape | sha256 of the images | source and licence |
|---|---|---|---|---|
{rows}
"""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=MAX_IMAGES, choices=range(1, MAX_IMAGES + 1),
                        metavar=f"1..{MAX_IMAGES}", help="test images per dataset")
    parser.add_argument("--out", type=Path, default=SAMPLES_FILE)
    args = parser.parse_args(argv)

    arrays, rows = {}, []
    for name in SAMPLED:
        data = load_dataset(name)
        images = data.x_test[: args.images]
        arrays.update({key(name, "images"): images, key(name, "labels"): data.y_test[: args.images],
                       key(name, "indices"): np.arange(len(images))})
        digest = hashlib.sha256(images.tobytes()).hexdigest()
        rows.append(f"| {DATASETS[name].title} | {len(images)} | {'×'.join(map(str, images.shape[1:]))} | "
                    f"`{digest}` | {SOURCES[name]} |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, **arrays)
    size_kib = args.out.stat().st_size / 1024
    (args.out.parent / "README.md").write_text(README.format(count=args.images, size_kib=size_kib,
                                                             rows="\n".join(rows)))
    print(f"Wrote {args.out} ({size_kib:.0f} KiB) and its README: {args.images} test images per dataset")


if __name__ == "__main__":
    main()
