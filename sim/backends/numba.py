"""larvasim's numba engine (:mod:`sim.engine_numba`): spike for spike what Brian2 computes."""
from __future__ import annotations

import hashlib
import json

import numpy as np

from .base import Backend, BackendError, RawRun

__all__ = ["NumbaBackend"]


class NumbaBackend(Backend):
    """Runs the network on :mod:`sim.engine_numba` (no Brian2 objects, no compiler).

    The engine kernel is found by the model's ``engine_kernel`` (its class
    declares it); a model whose equations differ from its class's is refused.
    Trials run in parallel threads (the network's ``threads``). The prepared
    engine of the last few conditions is kept (keyed by everything it depends
    on), so that runs repeating a condition -- a sweep's seeds, a protocol's
    larvae -- skip the preparation (a few ms for the whole brain).
    """

    devices = ("numba",)
    capabilities = frozenset({"plasticity", "record_states", "threads", "stepping"})
    #: Prepared engines kept per network.
    cache_size = 2

    def __init__(self, network, device="numba"):
        super().__init__(network, device)
        self.cache = {}

    def supports_model(self, model) -> bool:
        from ..engine_numba import _check_model

        try:
            _check_model(model)
        except NotImplementedError:
            return False
        return True

    def check(self) -> None:
        from ..engine_numba import _check_model

        try:
            _check_model(self.network.model)
        except NotImplementedError as exc:
            raise BackendError(f"device 'numba': {exc}; use a Brian2 device (numpy, cython, cpp_standalone)") \
                from None
        super().check()

    def prepare(self) -> None:
        """Plan the plasticity rule now (so that a rule the network cannot hold fails at construction,
        and the rule knows its targets before the first run)."""
        if self.network._plastic_mask().any():
            self._plastic_plan()

    def _plastic_plan(self):
        net = self.network
        key = json.dumps(net.plasticity.to_dict(), sort_keys=True, default=str)
        if getattr(self, "_plan", (None,))[0] != key:
            pre, post, count, sgn = net._edges
            plastic = net._plastic_mask()
            self._plan = (key, net.plasticity.plan(net, pre=pre[plastic], post=post[plastic], count=count[plastic],
                                                   sign=sgn[plastic]))
        return self._plan[1]

    def engine(self, silences, n_steps, weight_scale):
        """The engine's network for these silences and weight scales, and the plasticity plan."""
        net = self.network
        out_off, all_off = net._silenced(silences)
        key = (n_steps, hashlib.sha1(np.packbits(out_off).tobytes() + np.packbits(all_off).tobytes()).hexdigest(),
               json.dumps(weight_scale, sort_keys=True, default=str),
               json.dumps(net.plasticity.to_dict(), sort_keys=True, default=str) if net.plasticity else None)
        if key not in self.cache:
            self.cache[key] = self._prepare(out_off, all_off, n_steps, weight_scale)
            while len(self.cache) > self.cache_size:
                self.cache.pop(next(iter(self.cache)))
        return self.cache[key]

    def _prepare(self, out_off, all_off, n_steps, weight_scale):
        from ..engine_numba import prepare

        net = self.network
        pre, post, count, sgn = net._edges
        plastic = net._plastic_mask()
        fast = (sgn != 0) & ~plastic
        factor = net._scale_of(weight_scale)
        w = np.asarray(net.synaptic_weights(post[fast], count[fast], sgn[fast], pre=pre[fast]), dtype=float)
        if weight_scale is not None:
            kind = (np.where(sgn[fast] < 0, "inhibitory", "excitatory") if not net.model.shared_pathway
                    else np.full(int(fast.sum()), "excitatory"))
            w = w * np.array([factor[k] for k in kind])
        w[out_off[pre[fast]] | all_off[post[fast]]] = 0.0
        plan = pw = None
        if plastic.any():
            plan = self._plastic_plan()
            pw = np.where(out_off[plan.pre] | all_off[plan.post], 0.0, plan.w0 * factor["plastic"])
        engine = prepare(net.model, net.n_neurons, pre[fast], post[fast], w, n_steps,
                         drive_weight=float(net.drive_weight), inhibitory=sgn[fast] < 0,
                         cell_classes=net.cell_classes, record=net.recorded, record_states=net._record_states,
                         plasticity=plan, plastic_weights=pw, blocked=all_off)
        return engine, plan

    def run(self, inputs, silences, n_steps, weight_scale, progress=None) -> RawRun:
        net = self.network
        engine, plan = self.engine(silences, n_steps, weight_scale)
        # drawn inputs (sim.stimuli.TrialInputs): each trial is drawn by the thread that simulates it
        trials = [inputs.thunk(k) for k in range(len(inputs))] if hasattr(inputs, "thunk") else list(inputs)
        out = engine.run(trials, threads=net.threads)
        plastic_states = {}
        if plan is not None:
            net.plasticity.start(plan)
            for trial in range(out.n_trials):
                samples = out.plastic.samples[trial] if plan.record_dt is not None else None
                for var, (idx, t_ms, vals, unit) in net.plasticity.summarise_trial(
                        samples, out.plastic.t_ms, trial, out.plastic.final[trial]).items():
                    plastic_states.setdefault(var, (idx, t_ms, [], unit))[2].append(vals)
        subset = len(net.recorded) < net.n_neurons
        spikes = []
        for trial in range(out.n_trials):
            nodes, _ = out.spikes[trial]
            t = out.times_ms(trial)
            keep = np.isin(nodes, net.recorded) if subset else slice(None)
            spikes.append((np.asarray(nodes, dtype=np.int64)[keep], t[keep]))
            if progress:
                progress()
        return RawRun(spikes, out.states or {}, plastic_states)
