# Long real-KVM runs of the tiny VMM: a hostile guest and a soak. Skip (77) without /dev/kvm.
pvt_cli_test(cli_vmm_hostile cli_vmm_hostile.sh)
set_tests_properties(cli_vmm_hostile PROPERTIES TIMEOUT 180 RUN_SERIAL TRUE LABELS kvm)
pvt_cli_test(cli_vmm_soak cli_vmm_soak.sh)
set_tests_properties(cli_vmm_soak PROPERTIES TIMEOUT 180 RUN_SERIAL TRUE LABELS kvm)
