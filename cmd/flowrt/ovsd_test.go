package main_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// ovsDaemons starts an Open vSwitch of the test's own: ovsdb-server and
// ovs-vswitchd in a temporary directory that the returned environment names
// (OVS_RUNDIR, OVS_LOGDIR, OVS_DBDIR), so that every ovs-* command run with
// it — and mn, which runs them — reaches this instance and no other. sock is
// its database. The test's cleanup stops both (ovs-vswitchd with --cleanup,
// which removes its datapaths) and, when the test failed, logs the end of
// ovs-vswitchd's log.
func ovsDaemons(t *testing.T) (sock string, env []string) {
	t.Helper()
	need(t, "ovsdb-tool", "ovsdb-server", "ovs-vswitchd", "ovs-vsctl", "ovs-appctl")
	// A short directory: OVS's unix socket paths must fit in 108 bytes.
	dir, err := os.MkdirTemp("", "frtovs")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	env = append(os.Environ(), "OVS_RUNDIR="+dir, "OVS_LOGDIR="+dir, "OVS_DBDIR="+dir)
	run := func(args ...string) {
		t.Helper()
		c := exec.Command(args[0], args[1:]...)
		c.Env = env
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	db, sock := filepath.Join(dir, "conf.db"), "unix:"+filepath.Join(dir, "db.sock")
	run("ovsdb-tool", "create", db, "/usr/share/openvswitch/vswitch.ovsschema")
	run("ovsdb-server", db, "--remote=p"+sock, "--remote=db:Open_vSwitch,Open_vSwitch,manager_options",
		"--pidfile", "--detach", "--log-file")
	t.Cleanup(func() {
		c := exec.Command("ovs-appctl", "-t", "ovsdb-server", "exit")
		c.Env = env
		c.Run()
	})
	run("ovs-vsctl", "--db="+sock, "--no-wait", "init")
	run("ovs-vswitchd", sock, "--pidfile", "--detach", "--log-file")
	t.Cleanup(func() {
		c := exec.Command("ovs-appctl", "-t", "ovs-vswitchd", "exit", "--cleanup")
		c.Env = env
		c.Run()
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "ovs-vswitchd.log"))
			t.Logf("ovs-vswitchd log (last 3000 bytes):\n%s", tail(string(b), 3000))
		}
	})
	return sock, env
}
