//go:build windows

package main

import (
	"context"
	"os"
	"os/signal"
)

// signalContext is cancelled by Ctrl-C (os.Interrupt), the stop signal
// Windows delivers to a console process.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt)
}

// onReload: Windows has no SIGHUP; restart the service to reload.
func onReload(func()) (stop func()) { return func() {} }
