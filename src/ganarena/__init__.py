"""gan-arena: GAN losses as strategy objects, trained by one LightningModule."""
