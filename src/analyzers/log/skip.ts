// Frames that only report, allocate, lock or dispatch: never the guilty frame. Data, not code:
// each entry is a regular expression source matched against the whole base function name
// (`extract_entropy.constprop.0` is matched as `extract_entropy`).

/** Lock primitives and their wrappers: where a lock is taken on a caller's behalf. */
export const SKIP_LOCKS: readonly string[] = [
  '_raw_spin_.*', '__raw_spin_.*', 'do_raw_spin_.*', 'spin_.*', '_raw_read_.*', '__raw_read_.*', '_raw_write_.*', '__raw_write_.*',
  'do_raw_read_.*', 'do_raw_write_.*', 'queued_spin_lock_slowpath', 'native_queued_spin_lock_slowpath', '__pv_queued_spin_lock_slowpath',
  'queued_read_lock_slowpath', 'queued_write_lock_slowpath', 'mutex_lock.*', '__mutex_lock.*', 'mutex_unlock', '__mutex_unlock.*',
  'mutex_trylock', 'down', 'down_(?:trylock|interruptible|killable|timeout)', 'down_read.*', 'down_write.*', 'up', 'up_read', 'up_write', '__down.*', '__up.*', 'rwsem_.*', '__rwsem_.*',
  'rt_mutex_.*', '__rt_mutex_.*', 'rt_spin_.*', 'percpu_down_.*', 'percpu_up_.*', '__percpu_down_.*', 'ww_mutex_lock.*',
  '__ww_mutex_lock.*', 'osq_lock', 'local_bh_enable', '__local_bh_enable_ip', 'raw_spin_rq_lock.*',
  // kernel/sched: run-queue lock wrappers
  '_?_?task_rq_lock', 'rq_lock.*', 'double_rq_lock', '_double_lock_balance', 'preempt_schedule.*',
];

/** Skipped in every report kind. */
export const SKIP_ALWAYS: readonly string[] = [
  // reporting and trap plumbing
  'dump_stack(?:_lvl)?', '__dump_stack', 'show_stack', 'show_regs', 'show_trace.*', 'dump_backtrace.*',
  'print_.*', '__print_.*', 'printk.*', 'vprintk.*', '_printk', 'console_unlock', 'panic', 'nmi_panic', '__warn', '__warn_printk',
  'warn_slowpath.*', 'check_panic_on_warn', 'report_bug', 'handle_bug', 'fixup_bug', 'do_error_trap', 'do_trap', 'do_invalid_op',
  'exc_invalid_op', 'invalid_op', 'asm_exc_invalid_op', 'die', '__die', '__die_body', 'oops_end', 'no_context', '__bad_area.*',
  'bad_area.*', 'do_user_addr_fault', 'do_kern_addr_fault', '__do_page_fault', 'do_page_fault', 'page_fault', 'exc_page_fault',
  'asm_exc_page_fault', 'page_fault_oops', 'kernelmode_fixup_or_oops', 'handle_page_fault', 'do_general_protection',
  'exc_general_protection', 'asm_exc_general_protection', 'general_protection', 'error_entry', 'fixup_exception',
  'ex_handler_.*', 'bug_handler', 'do_debug', 'trace_hardirqs_.*', 'warn_alloc', 'warn_bogus_irq_restore',
  'kernel_fault', 'do_translation_fault', 'do_mem_abort', 'el1_.*', 'el1h_.*', '__do_kernel_fault', 'do_bad_area', 'die_kernel_fault',
  '__dabt_svc_.*', 'do_DataAbort', 'do_alignment', 'report_user_fault', 'arm64_notify_die', 'do_undefinstr', 'bug_brk_handler',
  'call_break_hook', 'brk_handler', 'do_debug_exception', 'el1_dbg', 'el1_sync.*',
  // sanitizers
  'kasan_.*', '__kasan_.*', 'kasan', '__asan_.*', 'asan_.*', 'check_memory_region.*', 'memory_is_poisoned.*', 'kmsan_.*',
  '__msan_.*', 'kmsan', '__hwasan_.*', 'hwasan_.*', 'kcsan_.*', '__kcsan_.*', '__tsan_.*', 'ubsan_.*', '__ubsan_.*', 'handle_overflow', 'handle_null_ptr_deref',
  'val_to_string', '__sanitizer_.*', 'write_comp_data', 'kfence_.*', '__kfence_.*', 'kmemleak_.*', 'check_stack_object',
  'report_.*', 'end_report', 'start_report', 'describe_object.*', 'object_err', 'slab_err', 'check_bytes_and_report',
  'instrument_.*', 'check_canary.*', 'kunit_.*_assert.*',
  // lockdep, debug objects, refcount, list and other debug checks
  'lockdep_.*', '__lock_acquire', 'lock_acquire', 'lock_release', 'lock_acquired', 'lock_contended', 'lock_is_held.*',
  '__lock_release', 'lock_sync', 'mark_lock.*', 'mark_usage', 'mark_held_locks', 'check_noncircular', 'check_irq_usage',
  'validate_chain', 'check_prev_add', 'check_prevs_add', 'register_lock_class', 'look_up_lock_class', 'lockdep',
  'check_flags', 'debug_lockdep_rcu_enabled', 'debug_check_no_locks_.*', 'debug_check_no_obj_freed', '__debug_check_no_obj_freed',
  'debug_object.*', 'debug_print_object', 'debug_locks_off', 'reacquire_held_locks', 'lock_downgrade',
  'refcount_.*', '__refcount_.*', 'kref_.*', 'ref_tracker_.*', '_*kobject_.*', 'kobj_.*', '__list_add.*', 'list_add.*', '__list_del.*',
  'list_del.*', 'list_replace.*', 'list_move.*', 'list_splice.*', '__list_.*_valid.*', 'hlist_.*', 'timer_is_static_object',
  'work_is_static_object', 'should_fail.*', 'fail_dump', 'might_fault', '__might_fault', '__might_sleep', '___might_sleep',
  'might_sleep', '__might_resched', '__cant_sleep', 'rcu_lockdep_current_cpu_online', 'debug_smp_processor_id',
  'check_preemption_disabled', '__this_cpu_preempt_check', 'check_stack_usage',
  // allocators
  '_*kmalloc.*', 'kmem_cache_alloc.*', 'kmem_cache_free.*', 'kmem_cache_zalloc', '__kmem_cache_.*', 'kzalloc.*', 'kcalloc.*',
  'kmalloc_array.*', 'kvmalloc.*', '__kvmalloc.*', 'kvzalloc.*', 'kvcalloc', 'kvfree.*', 'kfree.*', 'krealloc.*', '__krealloc',
  'kmemdup.*', 'free_large_kmalloc', '__alloc_frozen_pages.*', 'alloc_frozen_pages.*', '.*alloc.*_noprof', 'kstrdup.*', 'kstrndup', 'kmem_.*', '__alloc_pages.*', 'alloc_pages.*', '__get_free_pages', 'get_zeroed_page',
  'alloc_page_interleave', 'alloc_pages_bulk.*', '_*page_pool_.*', 'slab_.*', '___slab_alloc', '__slab_alloc.*', '__slab_free', 'slab_alloc.*', 'cache_alloc.*',
  '____cache_alloc.*', 'new_slab.*', 'allocate_slab', 'alloc_slab_page', 'setup_object', 'shuffle_freelist', 'free_debug_processing',
  'alloc_debug_processing', 'do_slab_free', '__free_pages.*', 'free_pages.*', 'vmalloc.*', '__vmalloc.*', 'vzalloc.*', 'vfree.*',
  '__vfree', 'kasprintf', 'kvasprintf.*', 'stack_depot_.*', '__stack_depot_.*', 'save_stack.*', 'set_track.*', 'trace_kmalloc.*',
  'trace_kfree.*', 'kmem_cache_alloc_trace', 'kmalloc_reserve', 'krealloc_array',
  'get_device_parent', 'hwrng_unregister', '__unregister_client', 'tty_unregister_device', 'kunit_try_run_case', 'skb_push',
  'post_alloc_hook', '__set_page_owner', 'set_page_owner', 'prep_new_page', '__vunmap', 'vunmap', 'init_timer_key', '__schedule_bug',
  // locks
  ...SKIP_LOCKS,
  // string, copy and user access helpers
  'memcpy.*', '__memcpy.*', 'memset.*', '__memset.*', 'memmove.*', '__memmove.*', 'memcmp', 'memchr.*', 'memscan', 'bcmp', 'strcmp',
  'strncmp', 'strlen', 'strnlen', 'strcpy', 'strncpy', 'strlcpy', 'strscpy.*', 'strcat', 'strncat', 'strlcat', 'strchr', 'strrchr',
  'strstr', 'sized_strscpy', 'fortify_.*', '__fortify_.*', 'copy_to_user.*', 'copy_from_user.*', '_copy_to_user', '_copy_from_user',
  '__copy_to_user.*', '__copy_from_user.*', 'copy_user_.*', '__copy_user.*', 'raw_copy_.*', 'copyin', 'copyout', 'check_copy_size',
  '__check_object_size', 'check_object_size', 'usercopy_abort', '__check_heap_object', 'copy_to_iter', 'copy_from_iter',
  '_copy_to_iter', '_copy_from_iter', 'strncpy_from_user', 'strnlen_user', 'get_user.*', 'put_user.*', '__get_user.*', '__put_user.*',
  'clear_user', '__clear_user', 'csum_partial_copy.*', 'string', 'pointer', 'vsnprintf', 'snprintf', 'sprintf', 'vsprintf',
  'scnprintf', 'vscnprintf', 'sscanf', 'vsscanf', 'format_decode', 'number', 'va_format',
  'dev_printk.*', '__dev_printk', 'dev_info', 'dev_warn', 'dev_err', 'dev_notice', 'dev_crit', 'dev_alert', 'dev_emerg', '_dev_.*',
  'dev_vprintk_emit', 'netdev_printk', '__netdev_printk', 'netdev_err', 'netdev_warn', 'netdev_info',
  // generic library helpers: trees, lists, bitops, atomics, checksums, devices, timers
  'rb_.*', '__rb_.*', 'klist_.*',
  // lib/idr.c's own API only: drivers name their helpers idr_* too (ib_uverbs' idr_read_uobj).
  'idr_(?:alloc\\w*|remove\\w*|find\\w*|for_each\\w*|get_next\\w*|get_new\\w*|get_empty_slot|pre_get|preload\\w*|replace|destroy|init\\w*|is_empty|layer_alloc|mark_full)',
  'ida_(?:alloc\\w*|free|destroy|simple_\\w+|get_new\\w*|pre_get|remove|init)', 'xa_.*', 'xas_.*', '__xa_.*', 'radix_tree_.*', 'rhashtable_.*', '__rhashtable_.*',
  'crc\\w*', '__crc\\w*', 'crc32.*', 'aes_.*', 'sha\\d+_.*', 'hex_.*', 'strn?str', 'strsep', 'read_word_at_a_time', 'skb_put',
  '(?:__)?(?:test_and_)?(?:set|clear|change)_bit.*', 'test_bit', 'find_.*_bit', '(?:arch_)?atomic\\w*', '_atomic_dec_and_lock.*',
  'atomic_dec_and_.*', 'device_del', 'device_unregister', 'device_release', 'device_destroy', 'put_device', 'device_add',
  'device_for_each_child', 'devres_release_all', 'sysfs_.*', 'kernfs_remove.*', 'kernfs_put', 'kernfs_get',
  'del_timer.*', 'try_to_del_timer_sync', '__del_timer.*', 'timer_delete.*', 'lock_timer_base', 'mod_timer', '__mod_timer',
  'hrtimer_cancel', 'hrtimer_try_to_cancel', 'flush_work', '__flush_work', '__cancel_work_timer', 'cancel_work_sync',
  'cancel_delayed_work_sync', 'try_to_grab_pending',
  'queue_work.*', '__queue_work', 'kthread_stop', 'kthread_park', 'finish_wait', 'prepare_to_wait.*', '__wake_up.*', 'wake_up(?:_(?:process|state|q|bit|var|all|interruptible\\w*|locked\\w*|poll\\w*|sync\\w*|page\\w*|pollfree|if_idle))?',
  'complete', 'complete_all', 'wait_for_completion.*', '__wait_for_common', 'wait_for_common.*', 'do_wait_for_common', 'usb_kill_urb', 'usb_kill_anchored_urbs', 'usb_poison_urb',
  'usb_unanchor_urb', 'mutex_remove_waiter', 'mutex_optimistic_spin', '__seqprop.*', 'drop_nlink', 'cleanup_srcu_struct',
  '__phys_addr', '__virt_to_phys.*', 'virt_to_phys', 'do_tag_check_fault', 'do_mem_abort', 'el1_abort', 'el1h_64_sync.*',
  'el1_sync_handler', 'el1_da', 'rollback_registered.*', 'unregister_netdevice.*', 'unregister_netdev', 'i2c_del_adapter',
  'device_remove_.*', 'synchronize_net', 'dpm_sysfs_remove', 'dput', 'fast_dput', 'call_rcu.*', 'kfree_rcu.*', 'folio_unlock',
  'unlock_page', 'skb_over_panic', 'skb_under_panic', '__kernel_text_address', 'kernel_text_address', '__read_once.*',
  'read_once.*', 'arch_stack_walk', 'stack_trace_.*', 'walk_stackframe', 'show_trace_log_lvl',
  // USB submission, page cache, inode, workqueue and timer plumbing that callers go through
  'usb_control_msg', 'usb_submit_urb', 'usb_hcd_submit_urb', 'dummy_urb_enqueue', 'filemap_alloc_folio', 'folio_alloc.*',
  '__filemap_get_folio', 'find_or_create_page', 'do_read_cache_folio', 'read_cache_page', 'pagecache_get_page',
  'grab_cache_page_write_begin', 'find_lock_entries', 'truncate_inode_pages_range', 'extract_(?:user|iter)_to_sg', 'iput',
  'iput_final', 'ihold', 'insert_work', '__queue_delayed_work', 'queue_delayed_work_on',
  'drain_workqueue', 'destroy_workqueue', '__timer_delete_sync', '__try_to_del_timer_sync', 'sk_stop_timer_sync', 'kfree_skb.*',
  '(?:__raw_)?(?:read|write)[bwlq]', 'logic_(?:in|out)\\w*', 'get_taint', 'print_tainted', 'add_uevent_var', 'owner_on_cpu',
  'osq_unlock', 'hex_dump_to_buffer', 'print_hex_dump', '__fortify_report',
  // thunks and entry glue
  '__x86_indirect_thunk_.*', '__x86_return_thunk', '__x86_indirect_.*', 'retbleed_.*', 'srso_.*', '__fentry__',
  'ftrace_.*', 'arch_ftrace_.*', '__sanitizer_cov.*',
];

/** Extra frames skipped when finding the frame of a stall, lockup or hang. */
export const SKIP_STALL: readonly string[] = [
  'apic_timer_interrupt', 'smp_apic_timer_interrupt', '__sysvec_apic_timer_interrupt', 'sysvec_apic_timer_interrupt',
  'asm_sysvec_apic_timer_interrupt', 'local_apic_timer_interrupt', 'hrtimer_interrupt', '__hrtimer_run_queues', 'hrtimer_run_queues',
  'tick_sched_timer', 'tick_sched_handle', 'tick_nohz_.*', 'update_process_times', 'rcu_.*', 'print_cpu_stall', 'print_other_cpu_stall',
  'check_cpu_stall', 'sched_show_task', 'dump_cpu_task', 'nmi_cpu_backtrace.*', 'nmi_trigger_cpumask_backtrace',
  'arch_trigger_cpumask_backtrace', 'trigger_single_cpu_backtrace', 'trigger_all_cpu_backtrace', 'nmi_handle', 'default_do_nmi',
  'do_nmi', 'exc_nmi', 'asm_exc_nmi', 'nmi', 'end_repeat_nmi', 'irq_exit.*', '__irq_exit_rcu', 'do_IRQ', 'common_interrupt',
  'asm_common_interrupt', 'ret_from_intr', 'sysvec_.*', 'asm_sysvec_.*', '__sysvec_.*', 'smp_call_function_.*interrupt',
  'generic_smp_call_function_.*', 'flush_smp_call_function_.*', 'handle_irq.*', 'gic_handle_irq', 'el1_interrupt', 'el1h_64_irq.*',
  'el0_interrupt', '__el1_irq', 'call_on_irq_stack', 'do_interrupt_handler', 'irq_enter.*', 'watchdog_timer_fn',
  'softlockup_fn', 'watchdog_overflow_callback', 'arch_cpu_idle', 'default_idle.*', 'do_idle', 'cpu_startup_entry', 'cpuidle_.*',
  'native_safe_halt', 'safe_halt', 'acpi_idle_.*', 'schedule', '__schedule', 'schedule_timeout.*', 'schedule_preempt_disabled',
  'preempt_schedule_irq', 'io_schedule.*', 'context_switch', 'finish_task_switch.*', '__cond_resched', '_cond_resched',
  'cond_resched', 'retint_kernel', 'irqentry_exit.*', 'raw_irqentry_exit_cond_resched', 'native_irq_return_iret',
  '__do_softirq', 'do_softirq.*', 'handle_softirqs', 'run_ksoftirqd', 'invoke_softirq', 'smpboot_thread_fn',
  'lock_timer_base', 'kvm_wait', 'pv_wait', 'native_safe_halt', 'halt', 'arch_local_irq_restore', 'native_restore_fl',
  'trace_hardirqs_on', 'console_.*', 'serial8250_.*', 'uart_.*', 'wait_for_xmitr', 'io_serial_in', 'delay_tsc', '__const_udelay',
  '__udelay', 'native_apic_mem_write', 'csd_lock_wait', 'smp_call_function.*', 'on_each_cpu.*', 'stop_machine.*', 'multi_cpu_stop',
  'cpu_stopper_thread', '\\w*handle_mm_fault', 'do_swap_page', 'handle_pte_fault', '__do_page_fault', 'do_user_addr_fault', 'exc_page_fault', 'asm_exc_page_fault', 'tick_.*', 'trace_apic_timer_interrupt', 'smp_trace_apic_timer_interrupt', 'unwind_.*', '__unwind_.*', 'orc_find', 'is_bpf_text_address', 'bpf_ksym_find', 'kernel_text_address',
];

/** Extra frames skipped for hung tasks (where the task sleeps is not interesting). */
export const SKIP_HANG: readonly string[] = [
  'schedule', '__schedule', 'schedule_timeout.*', 'schedule_preempt_disabled', 'io_schedule.*', 'context_switch',
  'wait_for_completion.*', '__wait_for_common', 'wait_for_common.*', 'do_wait_for_common', 'bit_wait.*', '__wait_on_bit.*',
  'out_of_line_wait_on_bit.*', 'wait_on_page_bit.*', 'folio_wait_bit.*', '__folio_lock.*', '__lock_page.*', 'wait_woken',
  'prepare_to_wait.*', 'finish_wait', 'rwsem_down_.*', '__rwsem_down_.*', 'rt_mutex_.*', 'percpu_rwsem_wait',
  '__percpu_down_read', 'percpu_down_write', 'flush_work', '__flush_work', 'wait_on_bit.*', 'down_.*', '__down.*',
  'schedule_hrtimeout.*', 'do_nanosleep', 'hrtimer_nanosleep', 'usleep_range.*', 'msleep', 'ssleep', 'io_wait_event.*',
  'wait_event.*', '__wait_event.*', 'jbd2_log_wait_commit', 'kthread_stop', 'kthread_park',
  'synchronize_rcu_tasks.*', 'wait_rcu_gp', '__wait_rcu_gp', '__synchronize_srcu', 'synchronize_srcu.*', 'rcu_barrier',
  '__flush_workqueue', 'freezer_.*', 'ldsem_.*', 'tty_ldisc_lock.*', 'call_rwsem_.*', '__switch_to.*', 'console_lock', '__wait_on_buffer', 'wait_on_buffer', '__filemap_fdatawait_range', 'filemap_fdatawait.*', 'usb_start_wait_urb', 'folio_wait_writeback', 'wait_on_page_writeback',
];

/**
 * Skipped when they occur anywhere in the name (reporting helpers come in many spellings:
 * `skb_panic`, `__reiserfs_panic`, `perf_trace_init`...).
 */
export const SKIP_SUBSTRING: readonly string[] = [
  'panic', 'kasan', 'kmsan', 'kcsan', 'ubsan', 'sanitizer', 'lockdep', 'debug_object', 'dump_stack', 'printk', 'warn_slowpath',
  '_trace_', 'refcount_', 'stack_trace',
];
