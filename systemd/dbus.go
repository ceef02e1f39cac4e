package systemd

import (
	"context"
	"fmt"
	"time"

	"github.com/coreos/go-systemd/v22/dbus"
)

// Manager enables, disables, reloads and stops rsprep.service on the
// running systemd.
type Manager struct {
	conn *dbus.Conn
}

// dbusTimeout bounds each call: a stop runs rsprep down, which takes a lock
// that another rsprep may hold for its --lock-wait.
const dbusTimeout = 90 * time.Second

// Connect talks to systemd over its private socket (root only, and it
// works without a D-Bus daemon, as on minimal hosts), else over the system
// bus.
func Connect(ctx context.Context) (*Manager, error) {
	conn, err := dbus.NewSystemdConnectionContext(ctx)
	if err != nil {
		var busErr error
		conn, busErr = dbus.NewSystemConnectionContext(ctx)
		if busErr != nil {
			return nil, fmt.Errorf("connecting to systemd: %w (system bus: %v)", err, busErr)
		}
	}
	return &Manager{conn: conn}, nil
}

// Close ends the connection.
func (m *Manager) Close() { m.conn.Close() }

// Reload is systemctl daemon-reload: systemd rereads the unit files.
func (m *Manager) Reload(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, dbusTimeout)
	defer cancel()
	if err := m.conn.ReloadContext(ctx); err != nil {
		return fmt.Errorf("reloading systemd: %w", err)
	}
	return nil
}

// Enable is systemctl enable rsprep.service; it returns the links made.
func (m *Manager) Enable(ctx context.Context) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, dbusTimeout)
	defer cancel()
	_, changes, err := m.conn.EnableUnitFilesContext(ctx, []string{UnitName}, false, false)
	if err != nil {
		return nil, fmt.Errorf("enabling %s: %w", UnitName, err)
	}
	var out []string
	for _, c := range changes {
		out = append(out, c.Type+" "+c.Filename+" → "+c.Destination)
	}
	return out, nil
}

// Disable is systemctl disable rsprep.service; it returns the links removed.
func (m *Manager) Disable(ctx context.Context) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, dbusTimeout)
	defer cancel()
	changes, err := m.conn.DisableUnitFilesContext(ctx, []string{UnitName}, false)
	if err != nil {
		return nil, fmt.Errorf("disabling %s: %w", UnitName, err)
	}
	var out []string
	for _, c := range changes {
		out = append(out, c.Type+" "+c.Filename)
	}
	return out, nil
}

// StopIfActive stops rsprep.service (its ExecStop runs rsprep down) when it
// is active, waits for the job, and reports whether it stopped it.
func (m *Manager) StopIfActive(ctx context.Context) (bool, error) {
	return m.jobIfActive(ctx, "stopping", m.conn.StopUnitContext)
}

// ReloadIfActive reloads rsprep.service (its ExecReload converges to the
// config: apply --config, or SIGHUP to rsprep watch) when it is active,
// waits for the job, and reports whether it reloaded it.
func (m *Manager) ReloadIfActive(ctx context.Context) (bool, error) {
	return m.jobIfActive(ctx, "reloading", m.conn.ReloadUnitContext)
}

// jobIfActive runs one job on rsprep.service if it is active and waits for
// it; doing names it in errors.
func (m *Manager) jobIfActive(ctx context.Context, doing string, start func(context.Context, string, string, chan<- string) (int, error)) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, dbusTimeout)
	defer cancel()
	p, err := m.conn.GetUnitPropertyContext(ctx, UnitName, "ActiveState")
	if err != nil {
		return false, fmt.Errorf("reading the state of %s: %w", UnitName, err)
	}
	if state, _ := p.Value.Value().(string); state != "active" && state != "reloading" {
		return false, nil
	}
	done := make(chan string, 1)
	if _, err := start(ctx, UnitName, "replace", done); err != nil {
		return false, fmt.Errorf("%s %s: %w", doing, UnitName, err)
	}
	select {
	case result := <-done:
		if result != "done" {
			return false, fmt.Errorf("%s %s: job %s (see journalctl -u %s)", doing, UnitName, result, UnitName)
		}
		return true, nil
	case <-ctx.Done():
		return false, fmt.Errorf("%s %s: %w", doing, UnitName, ctx.Err())
	}
}
