package kaas

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Poll bounds a wait for the API to reach a state.
type Poll struct {
	// Interval is the first pause between reads; it grows by half each
	// time up to MaxInterval. Default 5 s.
	Interval time.Duration
	// MaxInterval caps the pause. Default 30 s.
	MaxInterval time.Duration
	// Timeout bounds the whole wait. Default 30 min.
	Timeout time.Duration
}

func (p Poll) withDefaults() Poll {
	if p.Interval <= 0 {
		p.Interval = 5 * time.Second
	}
	if p.MaxInterval <= 0 {
		p.MaxInterval = 30 * time.Second
	}
	if p.Timeout <= 0 {
		p.Timeout = 30 * time.Minute
	}
	return p
}

// Progress receives what a wait observes, for the user.
type Progress func(format string, args ...any)

// ErrTimeout is returned when a wait runs out of time.
var ErrTimeout = errors.New("timed out")

// poll calls check until it reports done or an error, pausing with
// backoff, and gives up after the timeout. Time is measured by the
// pauses taken, so tests with an instant Sleep run in no time.
func (c *Client) poll(ctx context.Context, p Poll, what string, check func() (done bool, state string, err error)) error {
	p = p.withDefaults()
	// The timeout counts the pauses taken and the time spent in requests:
	// whichever reaches it first ends the wait.
	deadline := time.Now().Add(p.Timeout)
	var waited time.Duration
	pause := p.Interval
	state := ""
	for {
		done, s, err := check()
		if err != nil || done {
			return err
		}
		state = s
		if waited >= p.Timeout || time.Now().After(deadline) {
			return fmt.Errorf("%s: still %s after %s: %w", what, state, p.Timeout, ErrTimeout)
		}
		if err := c.sleep(ctx, pause); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		waited += pause
		pause = min(pause+pause/2, p.MaxInterval)
	}
}

func report(progress Progress, format string, args ...any) {
	if progress != nil {
		progress(format, args...)
	}
}

// WaitCluster waits until a cluster is Active. A Failed cluster is an error.
func (c *Client) WaitCluster(ctx context.Context, id int, p Poll, progress Progress) (*Cluster, error) {
	var last *Cluster
	err := c.poll(ctx, p, fmt.Sprintf("cluster %d", id), func() (bool, string, error) {
		cl, err := c.Cluster(ctx, id)
		if err != nil {
			return false, "", err
		}
		last = cl
		switch cl.Status {
		case StatusActive:
			return true, cl.Status, nil
		case StatusFailed, "Suspended":
			return false, "", fmt.Errorf("cluster %d (%s) is %s", id, cl.Name, cl.Status)
		}
		report(progress, "cluster %s is %s", cl.Name, cl.Status)
		return false, cl.Status, nil
	})
	return last, err
}

// PoolTarget is the size a pool must reach.
type PoolTarget struct {
	Min, Max int
	// ScalingDown tolerates quota errors while the pool shrinks, as
	// OpenStack releases the quota only after the nodes are gone.
	ScalingDown bool
}

// quotaGrace is how many reads a shrinking pool may report quota errors.
const quotaGrace = 6

// WaitPool waits until a pool is Active at the target size with every
// instance available. Failed, FailedQuota and error messages are errors.
func (c *Client) WaitPool(ctx context.Context, cluster, pool int, t PoolTarget, p Poll, progress Progress) (*Pool, error) {
	var last *Pool
	grace := quotaGrace
	err := c.poll(ctx, p, fmt.Sprintf("instance pool %d", pool), func() (bool, string, error) {
		pl, err := c.Pool(ctx, cluster, pool)
		if err != nil {
			return false, "", err
		}
		last = pl
		if pl.Status == StatusFailed || pl.Status == StatusQuota {
			return false, "", fmt.Errorf("instance pool %s is %s: %s", pl.Name, pl.Status, strings.Join(pl.ErrorMessages, ", "))
		}
		if len(pl.ErrorMessages) > 0 {
			shrinking := t.ScalingDown || pl.Status == StatusScaleDown
			if !shrinking || grace == 0 {
				return false, "", fmt.Errorf("instance pool %s: %s", pl.Name, strings.Join(pl.ErrorMessages, ", "))
			}
			grace--
		}
		ready := pl.Status == StatusActive && pl.MinimumInstances == t.Min &&
			pl.AvailableInstances == pl.TargetInstances &&
			pl.TargetInstances >= t.Min && pl.TargetInstances <= t.Max
		if !ready {
			report(progress, "instance pool %s is %s, %d of %d nodes ready", pl.Name, pl.Status, pl.AvailableInstances, pl.TargetInstances)
		}
		return ready, pl.Status, nil
	})
	return last, err
}

// WaitGone waits until read answers 404.
func (c *Client) WaitGone(ctx context.Context, what string, p Poll, progress Progress, read func() error) error {
	return c.poll(ctx, p, what, func() (bool, string, error) {
		err := read()
		switch {
		case IsNotFound(err):
			return true, "", nil
		case err != nil:
			return false, "", err
		}
		report(progress, "%s is still being deleted", what)
		return false, "being deleted", nil
	})
}
