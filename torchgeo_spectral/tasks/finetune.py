"""Wavelength-aware fine-tuning tasks built on TorchGeo's tasks.

Each task subclasses its TorchGeo counterpart and keeps its losses, metrics and
CLI arguments. What they share lives in one place, :class:`SpectralFineTuneMixin`
(on top of :class:`~torchgeo_spectral.tasks.batches.SpectralBatchMixin`, which
declares the encoder arguments for pretraining too): the one backbone builder
(``configure_models``), the few-label optimization recipe and the step methods, which pass
``batch['wavelength']`` to the model as an argument. Small mix-ins add the head
(:class:`PooledHeadMixin`, :class:`DenseHeadMixin`) and the target handling
(:class:`LabelTargetMixin`, :class:`ValueTargetMixin`). Every argument is declared
once, in the ``__init__`` of the class that uses it, and reaches the TorchGeo
task through ``**kwargs``: LightningCLI (jsonargparse) follows these calls, so
all arguments remain settable from YAML ``init_args``.
"""

from collections.abc import Mapping, Sequence
from typing import Any, Literal, cast, get_args, override

import torch
from lightning.pytorch.utilities.types import OptimizerLRScheduler
from torch import Tensor, nn
from torch.optim import Optimizer
from torchgeo.tasks import (
    Classification,
    PixelwiseRegression,
    Regression,
    SemanticSegmentation,
)

from ..models.backbone import freeze
from ..models.heads import (
    OutputActivation,
    PoolMode,
    SpectralClassifier,
    SpectralDenseModel,
)
from ..models.spectral_vit import SpectralViT
from ..models.weights import resolve_weights
from ..wavelengths import WavelengthError
from .batches import SpectralBatchMixin
from .head_init import PROBE_MAX_SAMPLES, initialize_head
from .optim import OptimizerName, build_optimizer, parameter_groups, trainer_schedule

#: How a pooled head's linear layer starts (``head_init``).
HeadInit = Literal['random', 'probe']

#: A batch dictionary (TorchGeo's ``Sample`` of stacked tensors).
Batch = Mapping[str, Any]

#: Training batches read to count classes for ``class_weights='balanced'``.
BALANCE_BATCHES = 20

#: Batch keys that may name the file of each sample (used in error messages).
_PATH_KEYS = ('path', 'paths', 'filename', 'filenames', 'file')


class SpectralFineTuneMixin(SpectralBatchMixin):
    """What every spectral fine-tuning task shares.

    * One backbone builder: :meth:`configure_models` builds the spectral ViT by
      name (with optional size overrides), loads a :class:`SpectralMAETask`
      checkpoint or exported encoder weights (``weights``) or ImageNet weights,
      adds the task's head and freezes what is asked.
    * Steps that pass the batch's ``wavelength`` to the model; batches without it
      (stock TorchGeo data modules) use the band centres of ``wavelengths=`` or
      ``sensor=``, checked once when the task is built.
    * The few-label recipe (defaults chosen for tens to hundreds of labels, see
      the user guide): AdamW without weight decay on norms, biases and
      embeddings; a lower learning rate for the encoder (``backbone_lr_scale``)
      that decays further towards the input (``layer_decay``); linear warm-up
      then cosine decay per step (no validation metric needed, unlike TorchGeo's
      ReduceLROnPlateau); stochastic depth; optional linear probe for the first
      ``probe_epochs`` epochs before fine-tuning the whole model.
    """

    model: Any
    criterion: nn.Module
    #: Batch key of the target.
    target_key = 'label'

    def __init__(
        self,
        *,
        drop_path_rate: float = 0.1,
        optimizer: OptimizerName = 'adamw',
        weight_decay: float = 0.05,
        backbone_lr_scale: float = 0.1,
        layer_decay: float = 0.75,
        warmup_fraction: float = 0.1,
        min_lr_ratio: float = 0.0,
        probe_epochs: int = 0,
        **kwargs: Any,
    ) -> None:
        """Initialize the task.

        Args:
            drop_path_rate: Stochastic depth of the encoder (0.1: mild
                regularization for few labels).
            optimizer: ``'adamw'``, ``'adam'`` or ``'sgd'``.
            weight_decay: Weight decay of weight matrices (none on norms,
                biases and embeddings).
            backbone_lr_scale: Encoder learning rate relative to ``lr`` (0.1:
                the head learns fast, the pretrained encoder moves little).
            layer_decay: Further factor per encoder layer from the top down
                (0.75, as in MAE fine-tuning; 1 turns it off).
            warmup_fraction: Share of all steps spent in linear warm-up before
                the cosine decay.
            min_lr_ratio: Final learning rate as a fraction of the initial one.
            probe_epochs: Train with the encoder frozen for this many epochs (a
                linear probe), then fine-tune everything (0: off).
            **kwargs: The encoder arguments of :class:`SpectralBatchMixin`
                (``model``, ``patch_size``, ``wavelengths``, ...) and those of
                the TorchGeo task (``weights``, ``lr``, ``freeze_backbone``, ...).
        """
        super().__init__(**kwargs)

    # ------------------------------------------------------------- the model

    def create_backbone(self) -> SpectralViT:
        """Build the spectral ViT from the hyperparameters and load weights.

        ``weights`` (a :class:`~torchgeo_spectral.models.SpectralViT_Weights`
        member or its name, e.g. ``'SpectralViT_Weights.SPECTRAL_MAE_FOUNDATION'``
        from YAML, a SpectralMAETask checkpoint or exported encoder weights)
        takes precedence over ``imagenet_weights``.

        Returns:
            The backbone, without a classification head.

        Raises:
            ValueError: If ``weights`` is neither a member nor a path.
        """
        weights = resolve_weights(getattr(self, 'weights', None))
        backbone = self.create_encoder(
            imagenet=weights is None,
            wavelengths=self.default_wavelengths(),
            drop_path_rate=self.hparams['drop_path_rate'],
        )
        self.load_encoder_weights(backbone, weights)
        return backbone

    def build_head(self, backbone: SpectralViT) -> nn.Module:
        """Wrap the backbone in the task's model (given by the head mix-in).

        Args:
            backbone: The spectral ViT.

        Returns:
            A module with ``backbone`` and ``head`` attributes called as
            ``model(x, wavelengths)``.
        """
        raise NotImplementedError(f'{type(self).__name__} needs a head mix-in')

    def num_outputs(self) -> int:
        """Number of outputs of the head (classes, labels or targets).

        Returns:
            The output count.
        """
        hp = self.hparams
        return int(
            hp.get('num_classes') or hp.get('num_labels') or hp.get('num_outputs') or 1
        )

    def configure_models(self) -> None:
        """Build backbone and head; freeze the backbone or decoder as asked."""
        self.model = self.build_head(self.create_backbone())
        if self.hparams.get('freeze_backbone'):
            freeze(self.model.backbone)
        if self.hparams.get('freeze_decoder') and hasattr(self.model, 'decoder'):
            freeze(self.model.decoder)

    def forward(self, x: Tensor, wavelengths: Tensor | None = None) -> Tensor:
        """Run the model.

        Args:
            x: Cubes (B, C, H, W).
            wavelengths: Band centres (C,) or (B, C) in nm; by default the task's
                ``wavelengths``/``sensor``.

        Returns:
            Model output.

        Raises:
            WavelengthError: If no band centres are known.
        """
        if wavelengths is None:
            wavelengths = self.default_wavelengths()
        if wavelengths is None:
            raise WavelengthError(
                'no wavelengths: pass them, or give the task wavelengths=/sensor='
            )
        out: Tensor = self.model(x, wavelengths.to(x.device))
        return out

    # ---------------------------------------------------------- optimization

    def configure_optimizers(self) -> OptimizerLRScheduler:
        """The few-label recipe: grouped AdamW and warm-up + cosine per step.

        Returns:
            Optimizer and step-wise scheduler.
        """
        hp = self.hparams
        groups = parameter_groups(
            self.model,
            hp['weight_decay'],
            hp['lr'],
            encoder=self.model.backbone,
            encoder_lr_scale=hp['backbone_lr_scale'],
            layer_decay=hp['layer_decay'],
        )
        optimizer = build_optimizer(
            groups, hp['optimizer'], hp['lr'], hp['weight_decay']
        )
        schedule = trainer_schedule(
            self.trainer,
            optimizer,
            warmup_fraction=hp['warmup_fraction'],
            min_lr_ratio=hp['min_lr_ratio'],
        )
        return {'optimizer': optimizer, 'lr_scheduler': schedule}

    def on_before_optimizer_step(self, optimizer: Optimizer) -> None:
        """Keep the encoder fixed during the first ``probe_epochs`` (linear probe).

        The encoder's gradients are dropped, so the optimizer skips it (no
        update, no weight decay, no moment statistics) while every parameter
        keeps ``requires_grad``: distributed strategies see the same
        parameters before and after the probe.

        Args:
            optimizer: The optimizer about to step.
        """
        super().on_before_optimizer_step(optimizer)
        if self.current_epoch < int(self.hparams['probe_epochs']):
            for param in self.model.backbone.parameters():
                param.grad = None

    # ----------------------------------------------------------------- steps

    def compute_loss(
        self, y_hat: Tensor, batch: Batch, stage: str
    ) -> tuple[Tensor, tuple[Tensor, Tensor] | None]:
        """Loss of a batch and the inputs of its metrics (given by a target mix-in).

        Args:
            y_hat: Model output.
            batch: The batch.
            stage: ``'train'``, ``'val'`` or ``'test'``.

        Returns:
            The loss and ``(predictions, targets)`` for the metrics (None: no
            metric update).
        """
        raise NotImplementedError(f'{type(self).__name__} needs a target mix-in')

    def _step(self, batch: Batch, stage: str) -> Tensor:
        """Forward pass with the batch's wavelengths, loss, logging, metrics.

        Args:
            batch: The batch.
            stage: ``'train'``, ``'val'`` or ``'test'``.

        Returns:
            The loss.
        """
        x = batch['image']
        y_hat = self(x, self.batch_wavelengths(batch))
        loss, metric_inputs = self.compute_loss(y_hat, batch, stage)
        self.log(f'{stage}_loss', loss, batch_size=x.shape[0])
        if metric_inputs is not None:
            getattr(self, f'{stage}_metrics')(*metric_inputs)
        return loss

    @override
    def training_step(
        self, batch: Batch, batch_idx: int, dataloader_idx: int = 0
    ) -> Tensor:
        """Compute the training loss and update the training metrics.

        Every step hook takes Lightning's ``(batch, batch_idx, dataloader_idx)``;
        a batch holds ``image``, ``wavelength`` and the target.
        """
        return self._step(batch, 'train')

    @override
    def validation_step(
        self, batch: Batch, batch_idx: int, dataloader_idx: int = 0
    ) -> None:
        """Compute the validation loss and update the validation metrics."""
        self._step(batch, 'val')

    @override
    def test_step(self, batch: Batch, batch_idx: int, dataloader_idx: int = 0) -> None:
        """Compute the test loss and update the test metrics."""
        self._step(batch, 'test')

    @override
    def predict_step(
        self, batch: Batch, batch_idx: int, dataloader_idx: int = 0
    ) -> Any:
        """Predict a batch (``image`` and ``wavelength``) in TorchGeo's output format."""
        return self.prediction(
            self(batch['image'], self.batch_wavelengths(batch)), batch
        )

    def prediction(self, y_hat: Tensor, batch: Batch) -> Any:
        """Turn model outputs into predictions (raw outputs by default).

        Args:
            y_hat: Model output.
            batch: The batch.

        Returns:
            Predictions.
        """
        return y_hat


class PooledHeadMixin(SpectralFineTuneMixin):
    """One output vector per input: :class:`~torchgeo_spectral.models.heads.SpectralClassifier`.

    A BatchNorm without affine parameters standardizes the features before the
    linear layer of a linear probe (``freeze_backbone=True``), as in the MAE
    linear-probe recipe, and when fine-tuning with ``head_norm=True``.
    """

    def __init__(
        self,
        *,
        pool: PoolMode = 'auto',
        probe_blocks: int = 1,
        head_norm: bool = False,
        head_init: HeadInit = 'random',
        **kwargs: Any,
    ) -> None:
        """Initialize the task.

        Args:
            pool: ``'center'``: the token of the patch holding the centre pixel
                (the labelled pixel's own token with ``p = 1`` or an odd
                window); ``'mean'``: the mean of the feature map; ``'auto'``
                (default): ``'center'`` when the patch grid is odd, else
                ``'mean'``.
            probe_blocks: Concatenate the outputs of the last this many blocks.
            head_norm: Standardize the features before the linear layer also
                when fine-tuning (:class:`~torchgeo_spectral.models.heads.HeadNorm`).
                Turn it on for inputs that are not standardized per band (e.g.
                ``SceneDataModule(normalization='scene')``, the shipped
                checkpoint's scaling): their features are anisotropic and the
                head then fits far better in a few hundred steps. With per-band
                z-scored inputs it does not help (see the training guide).
            head_init: ``'random'``: the linear layer starts at random;
                ``'probe'``: at the start of training, the head is set to the
                linear probe of the frozen encoder's features of the whole
                training set, solved to convergence with the task's loss
                (linear probing then fine-tuning, see
                :mod:`~torchgeo_spectral.tasks.head_init`); it costs one pass
                over the training data.
            **kwargs: Further task arguments.

        Raises:
            ValueError: For an unknown ``head_init``.
        """
        if head_init not in get_args(HeadInit):
            allowed = ' or '.join(map(repr, get_args(HeadInit)))
            raise ValueError(f'head_init must be {allowed}, got {head_init!r}')
        super().__init__(**kwargs)

    def on_train_start(self) -> None:
        """Initialize the head from the linear probe (``head_init='probe'``).

        Only at the start of a new fit: a run resumed from a checkpoint keeps
        its trained head.
        """
        super().on_train_start()
        if self.hparams['head_init'] == 'probe' and self.trainer.global_step == 0:
            self.initialize_head_from_probe()

    def initialize_head_from_probe(self) -> None:
        """Fit the linear probe on one pass over the training data; set the head.

        The encoder runs in evaluation mode (no stochastic depth) without
        gradients; batches go through the same transfer hooks as in training
        (the data module's normalization and augmentation), up to
        :data:`~torchgeo_spectral.tasks.head_init.PROBE_MAX_SAMPLES` samples.
        With several processes each fits on its own shard and rank 0's head is
        kept by all.
        """
        trainer = self.trainer
        modes = {module: module.training for module in self.model.modules()}
        self.model.eval()
        features, targets = [], []
        count = 0
        with torch.no_grad():
            for batch in trainer.train_dataloader or ():
                # the training loop's two transfer steps (Lightning's own hooks)
                batch = trainer.strategy.batch_to_device(
                    self._on_before_batch_transfer(batch, 0)
                )
                wavelengths = self.batch_wavelengths(batch)
                features.append(self.model.features(batch['image'], wavelengths))
                targets.append(batch[self.target_key])
                count += len(targets[-1])
                if count >= PROBE_MAX_SAMPLES:
                    break
        for module, training in modes.items():
            module.train(training)
        if not features:
            raise ValueError("head_init='probe': the training data loader is empty")
        target = {self.target_key: torch.cat(targets)}
        initialize_head(
            self.model.head,
            torch.cat(features),
            lambda outputs: self.compute_loss(outputs, target, 'train')[0],
        )
        head = trainer.strategy.broadcast(self.model.head.state_dict(), src=0)
        self.model.head.load_state_dict(head)

    @override
    def build_head(self, backbone: SpectralViT) -> nn.Module:
        """Pooled linear head on the backbone."""
        hp = self.hparams
        return SpectralClassifier(
            backbone,
            self.num_outputs(),
            pool=hp['pool'],
            blocks=hp['probe_blocks'],
            norm=bool(hp['head_norm'] or hp.get('freeze_backbone')),
        )


class DenseHeadMixin(SpectralFineTuneMixin):
    """Per-pixel outputs: :class:`~torchgeo_spectral.models.heads.SpectralDenseModel`.

    The feature map is decoded, upsampled to the input size and fused with a
    per-pixel projection of the input spectrum, so outputs vary inside a patch.
    """

    def __init__(self, *, head_channels: int = 64, **kwargs: Any) -> None:
        """Initialize the task.

        Args:
            head_channels: Channels of the head's conv block.
            **kwargs: Further task arguments.
        """
        super().__init__(**kwargs)

    @override
    def build_head(self, backbone: SpectralViT) -> nn.Module:
        """Dense head on the backbone."""
        hp = self.hparams
        return SpectralDenseModel(
            backbone,
            self.num_outputs(),
            hp['head_channels'],
            activation=hp.get('output_activation'),
        )


def _sample_names(batch: Batch, samples: Sequence[int]) -> str:
    """Describe samples of a batch by index and, when the batch has them, files.

    Args:
        batch: The batch.
        samples: Sample indices.

    Returns:
        For example ``'samples [0, 3] (files: a.tif, b.tif)'``.
    """
    text = f'samples {list(samples)[:10]}'
    for key in _PATH_KEYS:
        paths = batch.get(key)
        if isinstance(paths, Sequence) and not isinstance(paths, str):
            names = [str(paths[i]) for i in samples[:5] if i < len(paths)]
            return f'{text} (files: {", ".join(names)})'
    return text


class LabelTargetMixin(SpectralFineTuneMixin):
    """Class targets: label smoothing, class weights and label validation.

    Every batch's labels are checked before the loss: a value outside
    ``[0, num_classes)`` that is not ``ignore_index`` raises a
    :class:`ValueError` naming the values, their count and the samples (with
    their files when the batch carries ``path``), instead of an obscure
    torchmetrics or CUDA error later.
    """

    def __init__(
        self,
        *,
        label_smoothing: float = 0.1,
        class_weights: Sequence[float] | Literal['balanced'] | None = None,
        **kwargs: Any,
    ) -> None:
        """Initialize the task.

        Args:
            label_smoothing: Label smoothing of the cross-entropy loss (0.1:
                keeps few-label fine-tuning from over-confident fits).
            class_weights: Cross-entropy weight per class, or ``'balanced'``:
                ``n / (K * n_k)`` from the class counts ``n_k`` of the first
                :data:`BALANCE_BATCHES` training batches.
            **kwargs: Further task arguments.
        """
        super().__init__(**kwargs)

    def configure_losses(self) -> None:
        """Cross-entropy with label smoothing and class weights; else TorchGeo's.

        Raises:
            ValueError: If class weights are set for a loss other than ``'ce'``
                or their count is not ``num_classes``.
        """
        hp = self.hparams
        weights = hp['class_weights']
        if hp['loss'] != 'ce':
            if weights is not None:
                raise ValueError(
                    f"class_weights apply to loss='ce' only, got loss={hp['loss']!r}"
                )
            cast(Any, super()).configure_losses()
            return
        num_classes = self.num_outputs()
        if weights == 'balanced':
            tensor = torch.ones(num_classes)
        elif weights is not None:
            tensor = torch.as_tensor(weights, dtype=torch.float32)
            if tensor.shape != (num_classes,):
                raise ValueError(
                    f'class_weights: expected {num_classes} values (one per class), '
                    f'found shape {tuple(tensor.shape)}'
                )
        ignore = hp['ignore_index']
        self.criterion: nn.Module = nn.CrossEntropyLoss(
            weight=None if weights is None else tensor,
            ignore_index=-1000 if ignore is None else ignore,
            label_smoothing=hp['label_smoothing'],
        )

    def on_train_start(self) -> None:
        """Compute ``'balanced'`` class weights from the first training batches.

        They are set before the other start hooks run, so that a head
        initialized from a linear probe (``head_init='probe'``) fits the
        weighted loss.
        """
        if self.hparams['class_weights'] == 'balanced':
            self.balance_class_weights()
        super().on_train_start()

    def balance_class_weights(self) -> None:
        """Set the loss's class weights to ``n / (K * n_k)`` (see ``class_weights``)."""
        num_classes = self.num_outputs()
        counts = torch.zeros(num_classes)
        loader = self.trainer.train_dataloader
        for index, batch in enumerate(loader if loader is not None else ()):
            if index >= BALANCE_BATCHES:
                break
            labels = torch.as_tensor(batch[self.target_key]).flatten()
            labels = labels[(labels >= 0) & (labels < num_classes)]
            counts += torch.bincount(labels.long().cpu(), minlength=num_classes)
        present = counts > 0
        weights = torch.ones(num_classes)
        weights[present] = counts.sum() / (num_classes * counts[present])
        criterion = cast(nn.CrossEntropyLoss, self.criterion)
        assert criterion.weight is not None
        criterion.weight.copy_(weights.to(criterion.weight.device))

    def check_labels(self, labels: Tensor, batch: Batch, stage: str) -> None:
        """Refuse labels outside ``[0, num_classes)`` that are not ignored.

        Args:
            labels: Class labels (B, ...).
            batch: The batch (for sample file names).
            stage: ``'train'``, ``'val'`` or ``'test'``.

        Raises:
            ValueError: Naming the bad values, their count and the samples.
        """
        hp = self.hparams
        if hp['task'] == 'multilabel':
            return
        num_classes = 2 if hp['task'] == 'binary' else self.num_outputs()
        ignore = hp['ignore_index']
        bad = (labels < 0) | (labels >= num_classes)
        if ignore is not None:
            bad &= labels != ignore
        if not bool(bad.any()):
            return
        values = torch.unique(labels[bad]).tolist()
        samples = bad.reshape(bad.shape[0], -1).any(dim=1).nonzero().flatten().tolist()
        raise ValueError(
            f'{stage} batch: labels must lie in [0, {num_classes}) or equal '
            f'ignore_index ({ignore}), found values {values[:10]} '
            f'({int(bad.sum())} labels) in {_sample_names(batch, samples)}; set '
            'num_classes/ignore_index to match the data'
        )

    @override
    def compute_loss(
        self, y_hat: Tensor, batch: Batch, stage: str
    ) -> tuple[Tensor, tuple[Tensor, Tensor] | None]:
        """Validate the labels; TorchGeo's loss and ``(logits, labels)`` for the metrics."""
        y = batch[self.target_key]
        if y.ndim == y_hat.ndim and y.ndim == 4 and y.shape[1] == 1:
            y = y.squeeze(1)
        self.check_labels(y, batch, stage)
        y_hat = y_hat.squeeze(1)
        loss: Tensor = self.criterion(
            y_hat, y.float() if self.hparams['loss'] == 'bce' else y
        )
        return loss, (y_hat, y)

    @override
    def prediction(self, y_hat: Tensor, batch: Batch) -> Any:
        """Class probabilities (sigmoid for binary/multilabel, else softmax).

        Segmentation returns TorchGeo's dict with ``probabilities``, ``bounds``
        and ``transform``.
        """
        if self.hparams['task'] == 'multiclass':
            probabilities = y_hat.softmax(dim=1)
        else:
            probabilities = y_hat.sigmoid()
        if self.target_key != 'mask':
            return probabilities
        return {
            'probabilities': probabilities,
            'bounds': batch.get('bounds'),
            'transform': batch.get('transform'),
        }


class ValueTargetMixin(SpectralFineTuneMixin):
    """Regression targets with unlabelled entries left out of loss and metrics.

    A target entry is unlabelled when it is NaN or equals ``ignore_value``; a
    sample (or pixel) counts only where all of its outputs are labelled.
    """

    def __init__(self, *, ignore_value: float | None = None, **kwargs: Any) -> None:
        """Initialize the task.

        Args:
            ignore_value: Target value marking unlabelled entries (NaN always
                does).
            **kwargs: Further task arguments.
        """
        super().__init__(**kwargs)

    @override
    def compute_loss(
        self, y_hat: Tensor, batch: Batch, stage: str
    ) -> tuple[Tensor, tuple[Tensor, Tensor] | None]:
        """Masked loss and metric inputs over the labelled samples or pixels.

        The loss is zero, with gradients, when nothing is labelled; the metric
        inputs ``(predictions, targets)`` have shape (N, K), or (N,) for one output.
        """
        y = batch[self.target_key].to(y_hat.dtype)
        if y.ndim == y_hat.ndim - 1:
            y = y.unsqueeze(1)
        if y.shape != y_hat.shape:
            raise ValueError(
                f'{stage} batch: {self.target_key!r} has shape {tuple(y.shape)} but '
                f'the model predicts {tuple(y_hat.shape)} (num_outputs='
                f'{self.num_outputs()})'
            )
        labelled = ~torch.isnan(y)
        ignore = self.hparams['ignore_value']
        if ignore is not None:
            labelled &= y != ignore
        keep = labelled.all(dim=1)  # (B,) or (B, H, W)
        preds = y_hat.movedim(1, -1)[keep]
        targets = y.movedim(1, -1)[keep]
        if preds.shape[0] == 0:
            return y_hat.sum() * 0.0, None
        if preds.shape[1] == 1:
            preds, targets = preds.squeeze(1), targets.squeeze(1)
        loss: Tensor = self.criterion(preds, targets)
        return loss, (preds, targets)


class SpectralClassificationTask(LabelTargetMixin, PooledHeadMixin, Classification):
    """Image or pixel classification with a spectral ViT and a pooled head.

    For a labelled pixel at the centre of an odd window (or ``patch_size=1``)
    the default ``pool='auto'`` classifies the pixel from its own token. The
    few-label defaults (see :class:`SpectralFineTuneMixin`,
    :class:`LabelTargetMixin` and the training guide): ``lr=1e-3`` for the head,
    ``backbone_lr_scale=0.1``, ``layer_decay=0.75``, ``weight_decay=0.05``
    (none on norms, biases, embeddings), ``warmup_fraction=0.1`` then cosine,
    ``drop_path_rate=0.1``, ``label_smoothing=0.1``; ``class_weights``,
    ``probe_epochs``, ``probe_blocks``, ``head_norm`` and ``head_init`` off.
    Arguments not documented in the mix-ins are those of
    :class:`torchgeo.tasks.Classification` (``patience`` is unused: the
    schedule is warm-up + cosine).
    """


class SpectralRegressionTask(ValueTargetMixin, PooledHeadMixin, Regression):
    """Image-level regression with a spectral ViT and a pooled head.

    Same few-label defaults as :class:`SpectralClassificationTask` (without the
    label options); NaN or ``ignore_value`` targets are left out. Arguments
    not documented in the mix-ins are those of :class:`torchgeo.tasks.Regression`.
    """


class SpectralSegmentationTask(LabelTargetMixin, DenseHeadMixin, SemanticSegmentation):
    """Semantic segmentation at full resolution with a spectral ViT.

    The dense head decodes the (B, D, H/p, W/p) feature map, upsamples it and
    fuses a per-pixel projection of the input spectrum. Same few-label defaults
    as :class:`SpectralClassificationTask`. Arguments not documented in the
    mix-ins are those of :class:`torchgeo.tasks.SemanticSegmentation`.
    """

    target_key = 'mask'


class SpectralPixelwiseRegressionTask(
    ValueTargetMixin, DenseHeadMixin, PixelwiseRegression
):
    """Per-pixel regression of one or more targets (``mask`` (B, K, H, W)).

    For example abundances of ``num_outputs`` endmembers with
    ``output_activation='softmax'`` (non-negative, summing to one). Pixels whose
    target is NaN or ``ignore_value`` are left out of loss and metrics; outputs
    are at full resolution and vary within a patch. Arguments not documented
    here or in the mix-ins are those of :class:`torchgeo.tasks.PixelwiseRegression`.
    """

    target_key = 'mask'

    def __init__(
        self, *, output_activation: OutputActivation = None, **kwargs: Any
    ) -> None:
        """Initialize the task.

        Args:
            output_activation: ``'softmax'`` (abundances: non-negative, sum to
                one), ``'relu'`` or ``'softplus'`` (non-negative), or None.
            **kwargs: Further task arguments (``num_outputs``, ...).
        """
        super().__init__(**kwargs)


__all__ = [
    'BALANCE_BATCHES',
    'DenseHeadMixin',
    'HeadInit',
    'LabelTargetMixin',
    'PooledHeadMixin',
    'SpectralClassificationTask',
    'SpectralFineTuneMixin',
    'SpectralPixelwiseRegressionTask',
    'SpectralRegressionTask',
    'SpectralSegmentationTask',
    'ValueTargetMixin',
]
