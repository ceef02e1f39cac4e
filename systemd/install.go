package systemd

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"slices"

	"github.com/coreos/go-systemd/v22/util"
)

// Installer puts rsprep's boot files on a host, or takes them off again.
type Installer struct {
	// Root is "/" for this host, or an image or chroot directory (--root):
	// then systemd is never asked, the files and the wants link are written
	// as systemctl --root would.
	Root string
	Log  *slog.Logger
}

// live reports whether a running systemd manages Root and is asked to
// enable and disable over D-Bus.
func (in Installer) live() bool { return filepath.Clean(in.Root) == "/" && util.IsRunningSystemd() }

// Install writes files (and removes a modules-load file a previous install
// wrote that files no longer has), then enables rsprep.service. Run twice
// with the same files, the second run changes and logs nothing. If a step
// fails, what this run wrote is put back as it was.
func (in Installer) Install(ctx context.Context, files []File) (err error) {
	root, err := os.OpenRoot(in.Root)
	if err != nil {
		return fmt.Errorf("opening %s: %w", in.Root, err)
	}
	defer root.Close()
	undo := &undoLog{root: root}
	reloaded := false
	var m *Manager
	defer func() {
		if err != nil {
			err = undo.rollback(err)
			if reloaded { // systemd read the files now undone: let it read them again
				m.Reload(ctx)
			}
		}
		if m != nil {
			m.Close()
		}
	}()
	changed, configChanged, unitChanged := false, false, false
	for _, f := range files {
		c, err := undo.write(f)
		if err != nil {
			return err
		}
		if c {
			changed = true
			configChanged = configChanged || f.Path == ConfigPath
			unitChanged = unitChanged || f.Path == UnitPath
			in.Log.Info("wrote", "file", f.Path)
		}
	}
	if !slices.ContainsFunc(files, func(f File) bool { return f.Path == ModulesPath }) {
		removed, err := undo.remove(ModulesPath)
		if err != nil {
			return err
		}
		if removed {
			in.Log.Info("removed", "file", ModulesPath)
		}
	}
	if !in.live() {
		c, err := undo.link(WantsPath, UnitPath)
		if err != nil {
			return err
		}
		if c {
			in.Log.Info("enabled", "link", WantsPath, "target", UnitPath)
		}
	}
	if err := in.noteMadeDirs(root, undo); err != nil {
		return err
	}
	if !in.live() {
		return nil
	}
	if m, err = Connect(ctx); err != nil {
		return err
	}
	if changed {
		if err := m.Reload(ctx); err != nil {
			return err
		}
		reloaded = true
	}
	links, err := m.Enable(ctx)
	for _, l := range links {
		in.Log.Info("enabled", "change", l)
	}
	if err != nil || !configChanged {
		return err
	}
	return in.converge(ctx, m, unitChanged)
}

// converge makes a running rsprep.service take a new config: a reload,
// which converges to it without a restart (VIPs added and removed). A
// changed unit may be another kind of unit (oneshot or watch): that one
// only a restart brings in, which is the operator's to choose.
func (in Installer) converge(ctx context.Context, m *Manager, unitChanged bool) error {
	if unitChanged {
		in.Log.Info("the unit changed: if " + UnitName + " is running, systemctl restart rsprep applies the new one")
		return nil
	}
	reloaded, err := m.ReloadIfActive(ctx)
	if reloaded {
		in.Log.Info("reloaded " + UnitName + ": it converged to the new config")
	}
	return err
}

// Uninstall reverses Install. On a live host it first stops
// rsprep.service if it is active, so that its ExecStop (rsprep down) undoes
// what the unit applied while the config is still there to say what.
// Of the directories, it removes (once empty) those install created and
// listed in DirsPath, and no other: an image or host is left as it was
// before install.
func (in Installer) Uninstall(ctx context.Context) error {
	root, err := os.OpenRoot(in.Root)
	if err != nil {
		return fmt.Errorf("opening %s: %w", in.Root, err)
	}
	defer root.Close()
	var m *Manager
	if in.live() {
		if m, err = Connect(ctx); err != nil {
			return err
		}
		defer m.Close()
		stopped, err := m.StopIfActive(ctx)
		if err != nil {
			return err
		}
		if stopped {
			in.Log.Info("stopped " + UnitName + " (its ExecStop ran rsprep down)")
		}
		// systemd refuses to disable a unit file that does not exist: a
		// second uninstall has nothing to disable.
		if _, err := root.Lstat(rel(UnitPath)); err == nil {
			links, err := m.Disable(ctx)
			if err != nil {
				return err
			}
			for _, l := range links {
				in.Log.Info("disabled", "change", l)
			}
		}
	}
	made := madeDirs(root)
	removedAny := false
	for _, p := range []string{WantsPath, UnitPath, ModulesPath, ConfigPath, DirsPath} {
		removed, err := removeIfPresent(root, p)
		if err != nil {
			return err
		}
		if removed {
			removedAny = true
			in.Log.Info("removed", "file", p)
		}
	}
	if err := removeMadeDirs(root, made); err != nil {
		return err
	}
	if m != nil && removedAny {
		return m.Reload(ctx)
	}
	return nil
}

// noteMadeDirs adds the directories this install created to DirsPath,
// keeping those an earlier install created: they are still install's.
func (in Installer) noteMadeDirs(root *os.Root, undo *undoLog) error {
	made := append(madeDirs(root), undo.made...)
	made = append(made, missingDirs(root, path.Dir(DirsPath))...)
	slices.Sort(made)
	made = slices.Compact(made)
	if len(made) == 0 {
		return nil
	}
	_, err := undo.write(File{Path: DirsPath, Data: renderMadeDirs(made), Perm: 0o644})
	return err
}
