"""Fast engine: the larvasim neuron models simulated with numba, spike for spike as Brian2.

:func:`simulate` runs independent trials of one network -- neurons of a
:class:`~models.neurons.NeuronModel`, recurrent synapses ``(pre, post, w)``,
a drive of pre-generated :class:`~sim.stimuli.InputEvents` -- and returns, per
trial, the spikes (neuron, time step) that Brian2's runtime (``numpy``
target) produces for the same network built by :class:`sim.Network`. Not
statistically similar: the same spikes, because every floating-point
operation of Brian2's generated code is done in the same order.

What is reproduced (each point checked against Brian2 2.9 by
``tests/sim/test_engine_numba.py``)
---------------------------------------------------------------------------
Per time step ``k`` (``t = k dt``), in Brian2's schedule order:

1. **State update** (``groups``). ``not_refractory = timestep(t - lastspike)
   >= timestep(t_ref)``, i.e. ``k - k_spike >= R`` with ``R = int((t_ref +
   1e-3 dt) / dt)`` (22 steps for 2.2 ms). Variables marked ``(unless
   refractory)`` are integrated only when not refractory.

   * ``CurrentLIF``, method ``"linear"``: Brian2's exact update, with the
     loop-invariant constants computed in NumPy exactly as Brian2's numpy
     target does (``np.exp`` of the same float64 expressions)::

         g <- e2 g
         v <- v_rest + (((c8 g + u_ext) + e9 v) + e9 (-v_rest - u_ext))
         e2 = exp(-dt/tau_syn), e9 = exp(-dt/tau_m),
         c8 = tau_syn/(tau_m - tau_syn) (exp(dt/tau_syn) - exp(dt/tau_m)) e9 e2

   * ``ConductanceAdaptiveLIF``, method ``"euler"``: ``x <- (-dt/tau_x) x + x``
     for ``g_e, g_i, g_a`` (always), and (unless refractory)
     ``v <- v + dt (I_ext + g_L (E_L - v) + g_a (E_a - v) + g_e (E_e - v)
     + g_i (E_i - v)) / C_m`` with the conductances of the previous step.

2. **Threshold** (``thresholds``): ``v > v_th`` and not refractory; the spike
   is labelled ``t = k dt``; the neuron becomes refractory at once.
3. **Synaptic propagation** (``synapses``). A pathway with a delay of ``D =
   int(delay / dt + 0.5)`` steps (Brian2's C++ ``SpikeQueue``, used by the
   runtime and standalone devices: halves round up) pushes the spikes of step
   ``k`` and applies, in step ``k + D``, those pushed ``D`` steps earlier (so
   ``D = 0`` acts in the spike's own step; effects are seen from step ``k + D
   + 1``, i.e. ``delay + dt`` after the spike label): for each spiking neuron
   in increasing index, for each of its synapses in the order given
   (Brian2's synapse order), ``g[post] += w``, skipped when ``post`` is
   refractory and ``g`` is an ``(unless refractory)`` variable (Brian2
   write-protects it) -- ``CurrentLIF``'s ``g``, not the conductance model's
   ``g_e``/``g_i``. The additions are done one by one in that order (as
   ``numpy.add.at``), so sums round the same. The drive: an event ``(i, k)``
   adds ``drive_weight`` to ``v[i]`` in step ``k`` unless ``i`` is
   refractory (``v`` is write-protected too), so ``i`` spikes in step ``k +
   1``.
4. **Reset** (``resets``): ``CurrentLIF`` ``v = v_reset; g = 0``;
   ``ConductanceAdaptiveLIF`` ``v = V_reset; g_a += delta_g_a``.

State variables are recorded at the start of a step (Brian2's
``StateMonitor`` default, ``when="start"``). A synapse of weight 0 (e.g. a
silenced one) adds 0 and is skipped: the sums are unchanged.

How it is fast
--------------
One kernel call runs one trial. The update of all active neurons is one
vectorised loop (float64, no fast-math: the same roundings as NumPy); spikes
are found from a byte flag per neuron, 64 at a time; the delay line is a ring
of the last ``D + 1`` steps' spike lists; inputs go through a CSR table of
the synapses by presynaptic neuron. Two exact shortcuts for ``CurrentLIF``:
a refractory neuron sits at ``(v_reset, 0)``, which the update leaves
unchanged when ``v_reset = v_rest`` and ``u_ext = 0`` (the default), so it
needs no special handling; and a neuron that has had no input yet sits at
``(v_rest, 0)`` and is not integrated at all until its first input (it is
"dormant"; see :func:`_current_lif_trial`). A third, for ``CurrentLIF`` and
the larval model: a neuron whose ``v`` the update no longer moves (a fraction
of a second after its last input, long before ``g`` has decayed) "sleeps": only its
``g`` and ``theta`` still decay, in a vectorised loop, until its next input
(see :func:`_current_lif_adapt_trial`). Quiet stretches, such as the 15 s
between the trials of a conditioning protocol, then cost little. The
conductance model's kernel has dormant neurons too, and a woken neuron that
one step would leave exactly as it is (its conductances at the subnormal
values their Euler decay rounds back to themselves) becomes dormant again
(see ``conductance_lif._still_scan``).

Parallelism
-----------
Trials are independent. Each trial is one call of a compiled kernel that
releases the GIL (``nogil=True``); a thread pool runs ``threads`` of them at
once (default: one per core, at most one per trial). Threads share the
network's read-only arrays and need no process start-up or pickling; a trial
gives the same spikes whatever the number of threads. The kernels are
compiled once and cached on disk (``cache=True``, in ``__pycache__`` or
``$NUMBA_CACHE_DIR``); a new process loads them from there (timings:
``docs/benchmarks.md``).

Plasticity
----------
With ``plasticity`` (a :class:`models.plasticity.PlasticPlan`), the plastic
KC -> MBON synapses, the MBIN modulation and the MBON homeostasis run as
Brian2 runs the objects of :meth:`models.plasticity.DopaminePlasticity.build`
(its scheduling: ``when``, then ``order``, then name): in the synapse slot of
a step, the plastic pathway (``g += w`` unless refractory, then the KC trace
``elig``/``t_elig``; its name sorts before ``synapses_excitatory``), the static
pathways, the modulation (order 0: for each MBIN spike, ascending, for each of
its synapses in order, ``w = clip(w - eta_g ((w0 elig) exp((1/tau_e) (-(t -
t_elig)))), 0, w_max)``, the expression Brian2 generates) and the homeostasis
(order 1, no delay: ``w += rho_g ((-w) + w0)`` for the MBONs spiking in this
step); ``eta_g``/``rho_g`` are 0 outside the plastic windows. Weights are
sampled at the start of every ``record_dt``. Spikes equal Brian2's; weights
agree with Brian2's to the last bits (tests: within 1e-9 relative; of the
sampled weights of the toy network 99 % are bit for bit those of the numpy
target, 88 % those of C++ standalone): NumPy's own ``exp``
(AVX-512) and libm's, which the engine uses, differ in the last bit for about
1 argument in 20, and Brian2 compiles C++ with ``-ffast-math``, which may
reorder the arithmetic of the update.

Seam with :class:`sim.Network`
------------------------------
``Network(device="numba")`` prepares (:func:`prepare`, ``Network._engine``;
the last two are kept) what it already holds: the static connections (edges
with a sign, minus the plastic ones), their weights
(``model.synaptic_weights``, silenced ones 0, times ``weight_scale``), the
fully silenced neurons (their drive events are dropped), the drive weight, the
cell classes, the recorded neurons and state variables and the rule's
:class:`~models.plasticity.PlasticPlan` with the trial's starting plastic
weights; then runs the trial inputs on it (:meth:`EngineNetwork.run`).
:meth:`sim.Network.engine_network` hands the prepared network out, for
worker processes that do not import Brian2.

Examples
--------
>>> out = simulate(get_model("current_lif"), 3, [0], [1], [0.01], [InputEvents([0], [5])], 100,
...                drive_weight=0.06875)                                  # doctest: +SKIP
>>> out.spikes[0]                                                         # doctest: +SKIP
(array([0]), array([6]))

The package, by model: :mod:`~sim.engine_numba.current_lif` and
:mod:`~sim.engine_numba.conductance_lif` (one kernel and its set-up each),
:mod:`~sim.engine_numba.plastic` (the plasticity the kernels inline and its
tables), :mod:`~sim.engine_numba._shared` (bookkeeping the kernels inline),
:mod:`~sim.engine_numba.core` (preparing, running and stepping; written once
for every model) and :mod:`~sim.engine_numba._cache` (numba's on-disk cache
emptied when any of these files changed: numba watches only a kernel's own
file, not the helpers it inlines). A new kernel is one module plus its entries in
``core.SUPPORTED``, ``core._STATE_VARS`` and ``core._KERNELS``.
"""
from __future__ import annotations

from ._startup import start_numba_target

start_numba_target()  # before any kernel module: numba's target without scipy.linalg (start-up, issue 16)

from .conductance_lif import _conductance_lif_trial  # noqa: E402,F401 (kernels, for tests and benchmarks)
from .core import (SUPPORTED, EngineNetwork, EngineOutput, EngineState, PlasticOutput, _check_model,  # noqa: E402,F401
                   _events_csr, prepare, simulate, state_variables)
from .current_lif import _current_lif_trial  # noqa: E402,F401
from ._cache import refresh_stale_caches  # noqa: E402

refresh_stale_caches()  # kernels inline helpers of other files, which numba's cache does not watch

__all__ = ["SUPPORTED", "EngineNetwork", "EngineOutput", "EngineState", "PlasticOutput", "prepare", "simulate",
           "state_variables"]
