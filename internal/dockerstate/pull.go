package dockerstate

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/api/types/registry"
	"github.com/moby/moby/client"
)

// ErrPullInactive is returned (wrapped) when a pull made no progress for
// the inactivity timeout and was cancelled.
var ErrPullInactive = errors.New("no pull progress")

// PullImage pulls ref; progress, when not nil, is called with the bytes
// done and the total as layers download. The pull's own error, if any,
// arrives inside the JSON progress stream after the HTTP answer said 200,
// so the whole stream is read before the pull counts as done. Two limits bound it: the
// whole pull (PullTimeout) and silence on its progress stream
// (PullInactivityTimeout): a registry that stops sending bytes mid-blob
// would otherwise hold the pull until the whole-pull limit, hours later.
// The pulled image is in the cache before PullImage returns.
func (d *Docker) PullImage(ctx context.Context, ref string, auth PullAuth, progress func(done, total int64)) error {
	ctx, cancel := context.WithTimeout(ctx, d.opts.PullTimeout)
	defer cancel()
	ctx, stall := context.WithCancelCause(ctx)
	defer stall(nil)
	inactive := fmt.Errorf("%w for %s (ECS_IMAGE_PULL_INACTIVITY_TIMEOUT)", ErrPullInactive, d.opts.PullInactivityTimeout)
	watchdog := time.AfterFunc(d.opts.PullInactivityTimeout, func() { stall(inactive) })
	defer watchdog.Stop()

	header, err := auth.header()
	if err != nil {
		return fmt.Errorf("pull %s: %w", ref, err)
	}
	resp, err := d.api.ImagePull(ctx, ref, client.ImagePullOptions{RegistryAuth: header})
	if err != nil {
		return pullError(ctx, ref, err)
	}
	defer resp.Close()
	// Any message counts as activity: extraction of a large layer sends
	// no download bytes but is progress all the same.
	msgs := resp.JSONMessages(ctx)
	alive := func(yield func(jsonstream.Message, error) bool) {
		for m, err := range msgs {
			watchdog.Reset(d.opts.PullInactivityTimeout)
			if !yield(m, err) {
				return
			}
		}
	}
	if err := followPull(alive, progress); err != nil {
		return pullError(ctx, ref, err)
	}
	watchdog.Stop() // the pull is done; the lookup is not pull progress
	return d.cachePulled(ctx, ref)
}

// pullError names why a pull ended: the inactivity or whole-pull limit
// when one of them cut it off, rather than the "context canceled" the
// daemon connection reports.
func pullError(ctx context.Context, ref string, err error) error {
	if cause := context.Cause(ctx); cause != nil && ctx.Err() != nil {
		if errors.Is(cause, context.DeadlineExceeded) {
			return fmt.Errorf("pull %s: timed out (ECS_IMAGE_PULL_TIMEOUT): %w", ref, cause)
		}
		return fmt.Errorf("pull %s: %w", ref, cause)
	}
	return fmt.Errorf("pull %s: %w", ref, err)
}

// header encodes the credentials as the X-Registry-Auth header wants them:
// base64url of the JSON AuthConfig. It is "" for an anonymous pull.
func (a PullAuth) header() (string, error) {
	if a == (PullAuth{}) {
		return "", nil
	}
	// Email has been ignored by registries for years and is no longer part
	// of the daemon's AuthConfig.
	b, err := json.Marshal(registry.AuthConfig{
		Username:      a.Username,
		Password:      a.Password,
		ServerAddress: a.ServerAddress,
		IdentityToken: a.IdentityToken,
	})
	if err != nil {
		return "", fmt.Errorf("encode registry auth for %s: %w", a.ServerAddress, err)
	}
	return base64.URLEncoding.EncodeToString(b), nil
}

// followPull reads a pull's message stream to its end, reporting download
// progress, and returns the first error the stream carries.
func followPull(msgs iter.Seq2[jsonstream.Message, error], progress func(done, total int64)) error {
	var p pullProgress
	for m, err := range msgs {
		if err != nil {
			return fmt.Errorf("read pull progress: %w", err)
		}
		if m.Error != nil {
			return fmt.Errorf("daemon: %s", m.Error.Message)
		}
		if p.observe(m) && progress != nil {
			progress(p.done, p.total)
		}
	}
	return nil
}

// pullProgress sums the download progress of every layer of a pull. The
// daemon reports each layer separately, by layer id, and learns a layer's
// size only when its download starts, so the total grows during the pull.
type pullProgress struct {
	layers      map[string]*layerProgress
	done, total int64
}

type layerProgress struct{ current, total int64 }

// Statuses the daemon puts in pull messages.
const (
	pullDownloading      = "Downloading"
	pullDownloadComplete = "Download complete"
	pullExtracting       = "Extracting"
	pullComplete         = "Pull complete"
)

// observe folds one message in; it reports whether the sums changed.
func (p *pullProgress) observe(m jsonstream.Message) bool {
	if m.ID == "" {
		return false
	}
	l := p.layers[m.ID]
	switch m.Status {
	case pullDownloading:
		if m.Progress == nil || m.Progress.Total <= 0 {
			return false
		}
		if l == nil {
			l = &layerProgress{}
			if p.layers == nil {
				p.layers = map[string]*layerProgress{}
			}
			p.layers[m.ID] = l
		}
		l.current = min(m.Progress.Current, m.Progress.Total)
		l.total = m.Progress.Total
	case pullDownloadComplete, pullExtracting, pullComplete:
		// Extracting reports bytes of the unpacked layer, not of the
		// download: it only says the download is whole.
		if l == nil || l.current == l.total {
			return false
		}
		l.current = l.total
	default:
		return false
	}
	var done, total int64
	for _, l := range p.layers {
		done += l.current
		total += l.total
	}
	changed := done != p.done || total != p.total
	p.done, p.total = done, total
	return changed
}
