//! The evaluation clock: ticks aligned to the evaluation period, driven by
//! the samples' own timestamps, and the events and escalations they raise.

use super::Engine;
use crate::escalate::Run;
use crate::output::{Event, Origin, Output};
use crate::sla::{Direction, WindowView};

impl Engine {
    pub(super) fn period_ms(&self) -> u64 {
        self.options.period_seconds.saturating_mul(1000)
    }

    /// The first evaluation time at or after `ms`.
    pub(super) fn align_up(&self, ms: u64) -> u64 {
        ms.div_ceil(self.period_ms())
            .saturating_mul(self.period_ms())
    }

    /// Runs every evaluation due strictly before `ms`.
    pub(super) fn run_ticks_before(&mut self, ms: u64, out: &mut Vec<Output>) {
        let Some(mut tick) = self.next_tick_ms else {
            self.next_tick_ms = Some(self.align_up(ms));
            return;
        };
        let period = self.period_ms();
        while tick < ms {
            self.tick(tick, out);
            let mut next = tick.saturating_add(period);
            if next < ms {
                // Skip ahead over evaluations that cannot change anything.
                next = next.max(self.next_interesting(tick).min(self.align_up(ms)));
            }
            tick = next;
        }
        self.next_tick_ms = Some(tick);
    }

    /// When every window is empty, the earliest time an evaluation could
    /// give an event (a check may fire on an empty window, but not during its
    /// cooldown); `u64::MAX` when none could. Otherwise the next tick.
    pub(super) fn next_interesting(&self, tick: u64) -> u64 {
        let period = self.period_ms();
        let mut next = u64::MAX;
        for c in &self.clusters {
            let Some(sla) = &c.sla else { continue };
            if c.window.totals().count > 0 {
                // Samples will leave the window: evaluate every tick until then.
                return tick.saturating_add(period);
            }
            let view = WindowView {
                now_ms: tick,
                cluster: &c.window,
                services: &c.services,
            };
            if sla.check(&view).is_some() {
                let after_quiet = c.last_event_ms.map_or(0, |e| e.saturating_add(c.quiet_ms));
                next = next.min(self.align_up(after_quiet.max(tick.saturating_add(period))));
            }
        }
        next
    }

    /// One evaluation at `now` (ms, a multiple of the period).
    pub(super) fn tick(&mut self, now: u64, out: &mut Vec<Output>) {
        let now_sec = now / 1000;
        for i in 0..self.clusters.len() {
            let c = &mut self.clusters[i];
            let Some(sla) = &c.sla else { continue };
            c.window.advance(now_sec);
            for (_, w) in &mut c.services {
                w.advance(now_sec);
            }
            if c.last_event_ms
                .is_some_and(|e| now < e.saturating_add(c.quiet_ms))
            {
                continue;
            }
            let view = WindowView {
                now_ms: now,
                cluster: &c.window,
                services: &c.services,
            };
            if let Some(direction) = sla.check(&view) {
                self.event(i, now, direction, Origin::Sla, out);
            }
        }
    }

    pub(super) fn event(
        &mut self,
        i: usize,
        now: u64,
        direction: Direction,
        origin: Origin,
        out: &mut Vec<Output>,
    ) {
        let c = &mut self.clusters[i];
        c.last_event_ms = Some(c.last_event_ms.map_or(now, |e| e.max(now)));
        out.push(Output::Event(Event {
            timestamp_ms: now,
            cluster: c.name.clone(),
            direction,
            origin,
        }));
        let mut run = Run {
            timestamp_ms: now,
            cluster: &c.name,
            direction,
            scales: &mut self.scales,
            index: &self.index,
            handlers: &self.handlers,
        };
        run.first_that_acts(&c.escalations, out);
    }

    /// Runs every evaluation due up to and including `now_ms`.
    pub fn advance_to(&mut self, now_ms: u64, out: &mut Vec<Output>) {
        if self.next_tick_ms.is_none() {
            self.next_tick_ms = Some(self.align_up(now_ms));
        }
        self.run_ticks_before(now_ms.saturating_add(1), out);
    }

    /// At the end of a stream: runs the first evaluation at or after the last
    /// sample, so that the last samples are evaluated too.
    pub fn finish(&mut self, out: &mut Vec<Output>) {
        if let Some(t) = self.next_tick_ms {
            self.advance_to(t, out);
        }
    }

    /// Posts an Escalate/DeEscalate event for a cluster from outside (as
    /// other systems could in Vamp): the evaluations due before `now_ms` run
    /// first, then the cluster's escalations, and the event starts the
    /// cluster's cooldown like one of its own. `false` for an unknown
    /// cluster.
    pub fn post_event(
        &mut self,
        now_ms: u64,
        cluster: &str,
        direction: Direction,
        out: &mut Vec<Output>,
    ) -> bool {
        let Some(&i) = self.index.get(cluster) else {
            return false;
        };
        self.run_ticks_before(now_ms, out);
        self.event(i, now_ms, direction, Origin::Posted, out);
        true
    }
}
