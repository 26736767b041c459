# Version 2's health check fails. Each boot spends one try; with none left
# systemd-boot falls back to version 1, which keeps running, and the bad
# version is not installed again.
{ pkgs, lib, ... }:

let
  t = import ./lib.nix { inherit pkgs lib; };
in
{
  name = "mamori-rollback";

  nodes = {
    server = t.updateServer;
    appliance = t.applianceImage;
    # Never started: only built, to publish a broken version 2.
    appliance_bad =
      { pkgs, lib, ... }:
      {
        imports = [ t.applianceImage ];
        system.image.version = lib.mkForce "2";
        systemd.services.mamori-health.serviceConfig.ExecStart = lib.mkForce "${pkgs.coreutils}/bin/false";
        # The test power-cycles by itself, one try at a time.
        services.mamori.health.failureAction = "none";
      };
  };

  testScript =
    { nodes, ... }:
    let
      bad = t.sign nodes.appliance_bad.system.build.mamoriUpdate;
      sysupdate = t.sysupdate nodes.appliance;
      tries = nodes.appliance.services.mamori.update.tries;
    in
    ''
      ${t.useImage nodes.appliance}

      server.start()
      server.wait_for_unit("nginx.service")
      server.succeed("ln -sfn ${bad} /srv/updates/images")

      use_image("${t.diskImage nodes.appliance}")
      appliance.start()
      appliance.wait_for_unit("multi-user.target")
      appliance.wait_until_succeeds(
          "curl -sf http://${t.net.server}/images/SHA256SUMS", timeout=120
      )
      appliance.succeed("${sysupdate} update")
      assert uki_files(appliance) == ["mamori_1.efi", "mamori_2+${toString tries}-0.efi"], uki_files(appliance)

      appliance.shutdown()
      appliance.start()
      for attempt in range(1, ${toString tries} + 1):
          with subtest(f"attempt {attempt}: version 2 boots and is not blessed"):
              appliance.wait_for_unit("multi-user.target")
              assert image_version(appliance) == "2"
              appliance.wait_until_succeeds("systemctl is-failed mamori-health.service")
              appliance.fail("systemctl is-active systemd-bless-boot.service")
              left = ${toString tries} - attempt
              expected = f"mamori_2+{left}-{attempt}.efi"
              assert expected in uki_files(appliance), uki_files(appliance)
          appliance.reboot()

      with subtest("out of tries: version 1 is back"):
          appliance.wait_for_unit("multi-user.target")
          assert image_version(appliance) == "1"
          assert uki_files(appliance) == [
              "mamori_1.efi",
              "mamori_2+0-${toString tries}.efi",
          ], uki_files(appliance)
          appliance.succeed("dmsetup info --target verity usr | grep -q ACTIVE")

      with subtest("the bad version is not installed again"):
          appliance.execute("${sysupdate} update")
          assert "mamori_2+0-${toString tries}.efi" in uki_files(appliance)

      with subtest("version 1 stays after a power-cycle"):
          appliance.shutdown()
          appliance.start()
          appliance.wait_for_unit("multi-user.target")
          assert image_version(appliance) == "1"
    '';
}
