package dockerstate

import (
	"context"
	"errors"
	"net"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
)

// IsTransient reports whether err says nothing about the request itself: the
// daemon could not be reached, did not answer in time, or said it is
// unavailable. Such a call is worth retrying as it is. Any other error is the
// daemon's answer to this request (bad option, port already allocated, no such
// image) and retrying the same request will not help.
func IsTransient(err error) bool {
	if err == nil {
		return false
	}
	if client.IsErrConnectionFailed(err) ||
		errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, context.Canceled) ||
		cerrdefs.IsUnavailable(err) ||
		cerrdefs.IsDeadlineExceeded(err) ||
		cerrdefs.IsCanceled(err) {
		return true
	}
	var netErr net.Error
	return errors.As(err, &netErr)
}
