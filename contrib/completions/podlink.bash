#!/bin/bash

__podlink_cursor_index_in_current_word() {
    local remaining="${COMP_LINE}"

    local word
    for word in "${COMP_WORDS[@]::COMP_CWORD}"; do
        remaining="${remaining##*([[:space:]])"${word}"*([[:space:]])}"
    done

    local -ir index="$((COMP_POINT - ${#COMP_LINE} + ${#remaining}))"
    if [[ "${index}" -le 0 ]]; then
        printf 0
    else
        printf %s "${index}"
    fi
}

# positional arguments:
#
# - 1: the current (sub)command's count of positional arguments
#
# required variables:
#
# - repeating_flags: the repeating flags that the current (sub)command can accept
# - non_repeating_flags: the non-repeating flags that the current (sub)command can accept
# - repeating_options: the repeating options that the current (sub)command can accept
# - non_repeating_options: the non-repeating options that the current (sub)command can accept
# - positional_number: value ignored
# - unparsed_words: unparsed words from the current command line
#
# modified variables:
#
# - non_repeating_flags: remove flags for this (sub)command that are already on the command line
# - non_repeating_options: remove options for this (sub)command that are already on the command line
# - positional_number: set to the current positional number
# - unparsed_words: remove all flags, options, and option values for this (sub)command
__podlink_offer_flags_options() {
    local -ir positional_count="${1}"
    positional_number=0

    local was_flag_option_terminator_seen=false
    local is_parsing_option_value=false

    local -ar unparsed_word_indices=("${!unparsed_words[@]}")
    local -i word_index
    for word_index in "${unparsed_word_indices[@]}"; do
        if "${is_parsing_option_value}"; then
            # This word is an option value:
            # Reset marker for next word iff not currently the last word
            [[ "${word_index}" -ne "${unparsed_word_indices[${#unparsed_word_indices[@]} - 1]}" ]] && is_parsing_option_value=false
            unset "unparsed_words[${word_index}]"
            # Do not process this word as a flag or an option
            continue
        fi

        local word="${unparsed_words["${word_index}"]}"
        if ! "${was_flag_option_terminator_seen}"; then
            case "${word}" in
            --)
                unset "unparsed_words[${word_index}]"
                # by itself -- is a flag/option terminator, but if it is the last word, it is the start of a completion
                if [[ "${word_index}" -ne "${unparsed_word_indices[${#unparsed_word_indices[@]} - 1]}" ]]; then
                    was_flag_option_terminator_seen=true
                fi
                continue
                ;;
            -*)
                # ${word} is a flag or an option
                # If ${word} is an option, mark that the next word to be parsed is an option value
                local option
                for option in "${repeating_options[@]}" "${non_repeating_options[@]}"; do
                    [[ "${word}" = "${option}" ]] && is_parsing_option_value=true && break
                done

                # Remove ${word} from ${non_repeating_flags} or ${non_repeating_options} so it isn't offered again
                local not_found=true
                local -i index
                for index in "${!non_repeating_flags[@]}"; do
                    if [[ "${non_repeating_flags[${index}]}" = "${word}" ]]; then
                        unset "non_repeating_flags[${index}]"
                        non_repeating_flags=("${non_repeating_flags[@]}")
                        not_found=false
                        break
                    fi
                done
                if "${not_found}"; then
                    for index in "${!non_repeating_flags[@]}"; do
                        if [[ "${non_repeating_flags[${index}]}" = "${word}" ]]; then
                            unset "non_repeating_flags[${index}]"
                            non_repeating_flags=("${non_repeating_flags[@]}")
                            break
                        fi
                    done
                fi
                unset "unparsed_words[${word_index}]"
                continue
                ;;
            esac
        fi

        # ${word} is neither a flag, nor an option, nor an option value
        if [[ "${positional_number}" -lt "${positional_count}" || "${positional_count}" -lt 0 ]]; then
            # ${word} is a positional
            ((positional_number++))
            unset "unparsed_words[${word_index}]"
        else
            if [[ -z "${word}" ]]; then
                # Could be completing a flag, option, or subcommand
                positional_number=-1
            else
                # ${word} is a subcommand or invalid, so stop processing this (sub)command
                positional_number=-2
            fi
            break
        fi
    done

    unparsed_words=("${unparsed_words[@]}")

    if\
        ! "${was_flag_option_terminator_seen}"\
        && ! "${is_parsing_option_value}"\
        && [[ ("${cur}" = -* && "${positional_number}" -ge 0) || "${positional_number}" -eq -1 ]]
    then
        COMPREPLY+=($(compgen -W "${repeating_flags[*]} ${non_repeating_flags[*]} ${repeating_options[*]} ${non_repeating_options[*]}" -- "${cur}"))
    fi
}

__podlink_add_completions() {
    local completion
    while IFS='' read -r completion; do
        COMPREPLY+=("${completion}")
    done < <(IFS=$'\n' compgen "${@}" -- "${cur}")
}

__podlink_custom_complete() {
    if [[ -n "${cur}" || -z ${COMP_WORDS[${COMP_CWORD}]} || "${COMP_LINE:${COMP_POINT}:1}" != ' ' ]]; then
        local -ar words=("${COMP_WORDS[@]}")
    else
        local -ar words=("${COMP_WORDS[@]::${COMP_CWORD}}" '' "${COMP_WORDS[@]:${COMP_CWORD}}")
    fi

    "${COMP_WORDS[0]}" "${@}" "${words[@]}"
}

_podlink() {
    local state
    state="$(shopt -p;shopt -po)"
    trap "${state//$'\n'/;}" RETURN
    shopt -s extglob
    set +o history +o posix

    local -xr SAP_SHELL=bash
    local -x SAP_SHELL_VERSION
    SAP_SHELL_VERSION="$(IFS='.';printf %s "${BASH_VERSINFO[*]}")"
    local -r SAP_SHELL_VERSION

    local -r cur="${2}"
    local -r prev="${3}"

    local -i positional_number
    local -a unparsed_words=("${COMP_WORDS[@]:1:${COMP_CWORD}}")

    local -a repeating_flags=()
    local -a non_repeating_flags=(-h --help)
    local -a repeating_options=()
    local -a non_repeating_options=()
    __podlink_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    ps|run|create|exec|attach|start|stop|kill|pause|unpause|restart|rm|wait|logs|inspect|top|mount|umount|diff|images|import|load|rmi|tag|info|version|events|container|image|system|healthcheck|port|network|volume|pod|generate|play|cp|pull|push|search|save|export|commit|history|login|logout|help)
        # Offer subcommand argument completions
        "_podlink_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'ps run create exec attach start stop kill pause unpause restart rm wait logs inspect top mount umount diff images import load rmi tag info version events container image system healthcheck port network volume pod generate play cp pull push search save export commit history login logout help' -- "${cur}"))
        ;;
    esac
}

_podlink_ps() {
    repeating_flags=()
    non_repeating_flags=(--all -a --quiet -q --latest -l --size -s --no-trunc -h --help)
    repeating_options=(--filter -f)
    non_repeating_options=(--url -n --last --sort --format)
    __podlink_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    '--filter'|'-f')
        return
        ;;
    '-n'|'--last')
        return
        ;;
    '--sort')
        return
        ;;
    '--format')
        return
        ;;
    esac
}

_podlink_run() {
    repeating_flags=()
    non_repeating_flags=(--detach -d -P --publish-all --no-hosts --read-only --rm --tty -t --privileged --init --interactive -i -h --help)
    repeating_options=(--env -e --label -l --publish -p --dns-search --dns-opt --volume -v --cap-add --cap-drop --env-file --dns --add-host --tmpfs --ulimit --sysctl --device --mount --annotation)
    non_repeating_options=(--url --detach-keys --name -w --workdir --user -u -h --hostname --memory -m --network --ip --mac-address --restart --cpus --pids-limit --entrypoint --shm-size --stop-signal --stop-timeout --health-cmd --health-interval --health-retries --log-driver --ipc --pid --pod)
    __podlink_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    '--detach-keys')
        return
        ;;
    '--name')
        return
        ;;
    '--env'|'-e')
        return
        ;;
    '--label'|'-l')
        return
        ;;
    '-w'|'--workdir')
        return
        ;;
    '--user'|'-u')
        return
        ;;
    '-h'|'--hostname')
        return
        ;;
    '--memory'|'-m')
        return
        ;;
    '--network')
        return
        ;;
    '--publish'|'-p')
        return
        ;;
    '--ip')
        return
        ;;
    '--mac-address')
        return
        ;;
    '--dns-search')
        return
        ;;
    '--dns-opt')
        return
        ;;
    '--volume'|'-v')
        return
        ;;
    '--restart')
        return
        ;;
    '--cpus')
        return
        ;;
    '--pids-limit')
        return
        ;;
    '--cap-add')
        return
        ;;
    '--cap-drop')
        return
        ;;
    '--entrypoint')
        return
        ;;
    '--env-file')
        return
        ;;
    '--dns')
        return
        ;;
    '--add-host')
        return
        ;;
    '--tmpfs')
        return
        ;;
    '--ulimit')
        return
        ;;
    '--sysctl')
        return
        ;;
    '--device')
        return
        ;;
    '--mount')
        return
        ;;
    '--shm-size')
        return
        ;;
    '--stop-signal')
        return
        ;;
    '--stop-timeout')
        return
        ;;
    '--health-cmd')
        return
        ;;
    '--health-interval')
        return
        ;;
    '--health-retries')
        return
        ;;
    '--log-driver')
        return
        ;;
    '--ipc')
        return
        ;;
    '--pid')
        return
        ;;
    '--annotation')
        return
        ;;
    '--pod')
        return
        ;;
    esac
}

_podlink_create() {
    repeating_flags=()
    non_repeating_flags=(-P --publish-all --no-hosts --read-only --rm --tty -t --privileged --init --interactive -i -h --help)
    repeating_options=(--env -e --label -l --publish -p --dns-search --dns-opt --volume -v --cap-add --cap-drop --env-file --dns --add-host --tmpfs --ulimit --sysctl --device --mount --annotation)
    non_repeating_options=(--url --name -w --workdir --user -u -h --hostname --memory -m --network --ip --mac-address --restart --cpus --pids-limit --entrypoint --shm-size --stop-signal --stop-timeout --health-cmd --health-interval --health-retries --log-driver --ipc --pid --pod)
    __podlink_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    '--name')
        return
        ;;
    '--env'|'-e')
        return
        ;;
    '--label'|'-l')
        return
        ;;
    '-w'|'--workdir')
        return
        ;;
    '--user'|'-u')
        return
        ;;
    '-h'|'--hostname')
        return
        ;;
    '--memory'|'-m')
        return
        ;;
    '--network')
        return
        ;;
    '--publish'|'-p')
        return
        ;;
    '--ip')
        return
        ;;
    '--mac-address')
        return
        ;;
    '--dns-search')
        return
        ;;
    '--dns-opt')
        return
        ;;
    '--volume'|'-v')
        return
        ;;
    '--restart')
        return
        ;;
    '--cpus')
        return
        ;;
    '--pids-limit')
        return
        ;;
    '--cap-add')
        return
        ;;
    '--cap-drop')
        return
        ;;
    '--entrypoint')
        return
        ;;
    '--env-file')
        return
        ;;
    '--dns')
        return
        ;;
    '--add-host')
        return
        ;;
    '--tmpfs')
        return
        ;;
    '--ulimit')
        return
        ;;
    '--sysctl')
        return
        ;;
    '--device')
        return
        ;;
    '--mount')
        return
        ;;
    '--shm-size')
        return
        ;;
    '--stop-signal')
        return
        ;;
    '--stop-timeout')
        return
        ;;
    '--health-cmd')
        return
        ;;
    '--health-interval')
        return
        ;;
    '--health-retries')
        return
        ;;
    '--log-driver')
        return
        ;;
    '--ipc')
        return
        ;;
    '--pid')
        return
        ;;
    '--annotation')
        return
        ;;
    '--pod')
        return
        ;;
    esac
}

_podlink_exec() {
    repeating_flags=()
    non_repeating_flags=(--interactive -i --tty -t --privileged -h --help)
    repeating_options=(--env -e)
    non_repeating_options=(--url --user -u --workdir -w --detach-keys)
    __podlink_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    '--env'|'-e')
        return
        ;;
    '--user'|'-u')
        return
        ;;
    '--workdir'|'-w')
        return
        ;;
    '--detach-keys')
        return
        ;;
    esac
}

_podlink_attach() {
    repeating_flags=()
    non_repeating_flags=(--no-stdin -h --help)
    repeating_options=()
    non_repeating_options=(--url --detach-keys)
    __podlink_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    '--detach-keys')
        return
        ;;
    esac
}

_podlink_start() {
    repeating_flags=()
    non_repeating_flags=(--attach -a --interactive -i -h --help)
    repeating_options=()
    non_repeating_options=(--url --detach-keys)
    __podlink_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    '--detach-keys')
        return
        ;;
    esac
}

_podlink_stop() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--url --time -t)
    __podlink_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    '--time'|'-t')
        return
        ;;
    esac
}

_podlink_kill() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--url --signal -s)
    __podlink_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    '--signal'|'-s')
        return
        ;;
    esac
}

_podlink_pause() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--url)
    __podlink_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    esac
}

_podlink_unpause() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--url)
    __podlink_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    esac
}

_podlink_restart() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--url --time -t)
    __podlink_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    '--time'|'-t')
        return
        ;;
    esac
}

_podlink_rm() {
    repeating_flags=()
    non_repeating_flags=(--force -f --volumes -v -h --help)
    repeating_options=()
    non_repeating_options=(--url)
    __podlink_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    esac
}

_podlink_wait() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--url)
    __podlink_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    esac
}

_podlink_logs() {
    repeating_flags=()
    non_repeating_flags=(--follow -f --timestamps -t -h --help)
    repeating_options=()
    non_repeating_options=(--url --tail)
    __podlink_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    '--tail')
        return
        ;;
    esac
}

_podlink_inspect() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--url --type -t --format -f)
    __podlink_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    '--type'|'-t')
        return
        ;;
    '--format'|'-f')
        return
        ;;
    esac
}

_podlink_top() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--url)
    __podlink_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    esac
}

_podlink_mount() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--url)
    __podlink_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    esac
}

_podlink_umount() {
    repeating_flags=()
    non_repeating_flags=(--force -f -h --help)
    repeating_options=()
    non_repeating_options=(--url)
    __podlink_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    esac
}

_podlink_diff() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--url --format)
    __podlink_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    '--format')
        __podlink_add_completions -W 'table'$'\n''json'
        return
        ;;
    esac
}

_podlink_images() {
    repeating_flags=()
    non_repeating_flags=(--quiet -q -h --help)
    repeating_options=()
    non_repeating_options=(--url --format)
    __podlink_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    '--format')
        __podlink_add_completions -W 'table'$'\n''json'
        return
        ;;
    esac
}

_podlink_import() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=(--change -c)
    non_repeating_options=(--url)
    __podlink_offer_flags_options 2

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    '--change'|'-c')
        return
        ;;
    esac
}

_podlink_load() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--url --input -i)
    __podlink_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    '--input'|'-i')
        return
        ;;
    esac
}

_podlink_rmi() {
    repeating_flags=()
    non_repeating_flags=(--force -f -h --help)
    repeating_options=()
    non_repeating_options=(--url)
    __podlink_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    esac
}

_podlink_tag() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--url)
    __podlink_offer_flags_options 2

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    esac
}

_podlink_info() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--url --format)
    __podlink_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    '--format')
        __podlink_add_completions -W 'table'$'\n''json'
        return
        ;;
    esac
}

_podlink_version() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--url --format)
    __podlink_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    '--format')
        __podlink_add_completions -W 'table'$'\n''json'
        return
        ;;
    esac
}

_podlink_events() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=(--filter -f)
    non_repeating_options=(--url --since)
    __podlink_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    '--filter'|'-f')
        return
        ;;
    '--since')
        return
        ;;
    esac
}

_podlink_container() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=()
    __podlink_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    prune)
        # Offer subcommand argument completions
        "_podlink_container_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'prune' -- "${cur}"))
        ;;
    esac
}

_podlink_container_prune() {
    repeating_flags=()
    non_repeating_flags=(--force -f -h --help)
    repeating_options=()
    non_repeating_options=(--url)
    __podlink_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    esac
}

_podlink_image() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=()
    __podlink_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    prune)
        # Offer subcommand argument completions
        "_podlink_image_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'prune' -- "${cur}"))
        ;;
    esac
}

_podlink_image_prune() {
    repeating_flags=()
    non_repeating_flags=(--all -a --force -f -h --help)
    repeating_options=()
    non_repeating_options=(--url)
    __podlink_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    esac
}

_podlink_system() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=()
    __podlink_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    reset)
        # Offer subcommand argument completions
        "_podlink_system_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'reset' -- "${cur}"))
        ;;
    esac
}

_podlink_system_reset() {
    repeating_flags=()
    non_repeating_flags=(--force -f -h --help)
    repeating_options=()
    non_repeating_options=(--url)
    __podlink_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    esac
}

_podlink_healthcheck() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=()
    __podlink_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    run)
        # Offer subcommand argument completions
        "_podlink_healthcheck_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'run' -- "${cur}"))
        ;;
    esac
}

_podlink_healthcheck_run() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--url)
    __podlink_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    esac
}

_podlink_port() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--url)
    __podlink_offer_flags_options 2

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    esac
}

_podlink_network() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=()
    __podlink_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    ls|inspect|create|rm)
        # Offer subcommand argument completions
        "_podlink_network_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'ls inspect create rm' -- "${cur}"))
        ;;
    esac
}

_podlink_network_ls() {
    repeating_flags=()
    non_repeating_flags=(--quiet -q -h --help)
    repeating_options=()
    non_repeating_options=(--url --format)
    __podlink_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    '--format')
        __podlink_add_completions -W 'table'$'\n''json'
        return
        ;;
    esac
}

_podlink_network_inspect() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--url)
    __podlink_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    esac
}

_podlink_network_create() {
    repeating_flags=()
    non_repeating_flags=(--internal --disable-dns -h --help)
    repeating_options=()
    non_repeating_options=(--url --driver --subnet --gateway --ip-range --bridge)
    __podlink_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    '--driver')
        return
        ;;
    '--subnet')
        return
        ;;
    '--gateway')
        return
        ;;
    '--ip-range')
        return
        ;;
    '--bridge')
        return
        ;;
    esac
}

_podlink_network_rm() {
    repeating_flags=()
    non_repeating_flags=(--force -f -h --help)
    repeating_options=()
    non_repeating_options=(--url)
    __podlink_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    esac
}

_podlink_volume() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=()
    __podlink_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    create|ls|inspect|rm|prune)
        # Offer subcommand argument completions
        "_podlink_volume_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'create ls inspect rm prune' -- "${cur}"))
        ;;
    esac
}

_podlink_volume_create() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=(--label -l --opt -o)
    non_repeating_options=(--url --driver)
    __podlink_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    '--driver')
        return
        ;;
    '--label'|'-l')
        return
        ;;
    '--opt'|'-o')
        return
        ;;
    esac
}

_podlink_volume_ls() {
    repeating_flags=()
    non_repeating_flags=(--quiet -q -h --help)
    repeating_options=()
    non_repeating_options=(--url --format)
    __podlink_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    '--format')
        __podlink_add_completions -W 'table'$'\n''json'
        return
        ;;
    esac
}

_podlink_volume_inspect() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--url)
    __podlink_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    esac
}

_podlink_volume_rm() {
    repeating_flags=()
    non_repeating_flags=(--force -f --all -a -h --help)
    repeating_options=()
    non_repeating_options=(--url)
    __podlink_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    esac
}

_podlink_volume_prune() {
    repeating_flags=()
    non_repeating_flags=(--force -f -h --help)
    repeating_options=()
    non_repeating_options=(--url)
    __podlink_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    esac
}

_podlink_pod() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=()
    __podlink_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    create|ps|inspect|start|stop|restart|kill|pause|unpause|rm|top|stats)
        # Offer subcommand argument completions
        "_podlink_pod_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'create ps inspect start stop restart kill pause unpause rm top stats' -- "${cur}"))
        ;;
    esac
}

_podlink_pod_create() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=(--publish -p --label -l)
    non_repeating_options=(--url --name --share --infra)
    __podlink_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    '--name')
        return
        ;;
    '--publish'|'-p')
        return
        ;;
    '--label'|'-l')
        return
        ;;
    '--share')
        return
        ;;
    '--infra')
        return
        ;;
    esac
}

_podlink_pod_ps() {
    repeating_flags=()
    non_repeating_flags=(--quiet -q --no-trunc -h --help)
    repeating_options=()
    non_repeating_options=(--url --format)
    __podlink_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    '--format')
        __podlink_add_completions -W 'table'$'\n''json'
        return
        ;;
    esac
}

_podlink_pod_inspect() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--url)
    __podlink_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    esac
}

_podlink_pod_start() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--url)
    __podlink_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    esac
}

_podlink_pod_stop() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--url --time -t)
    __podlink_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    '--time'|'-t')
        return
        ;;
    esac
}

_podlink_pod_restart() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--url)
    __podlink_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    esac
}

_podlink_pod_kill() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--url --signal -s)
    __podlink_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    '--signal'|'-s')
        return
        ;;
    esac
}

_podlink_pod_pause() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--url)
    __podlink_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    esac
}

_podlink_pod_unpause() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--url)
    __podlink_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    esac
}

_podlink_pod_rm() {
    repeating_flags=()
    non_repeating_flags=(--force -f -h --help)
    repeating_options=()
    non_repeating_options=(--url)
    __podlink_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    esac
}

_podlink_pod_top() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--url)
    __podlink_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    esac
}

_podlink_pod_stats() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--url --format)
    __podlink_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    '--format')
        __podlink_add_completions -W 'table'$'\n''json'
        return
        ;;
    esac
}

_podlink_generate() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=()
    __podlink_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    kube)
        # Offer subcommand argument completions
        "_podlink_generate_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'kube' -- "${cur}"))
        ;;
    esac
}

_podlink_generate_kube() {
    repeating_flags=()
    non_repeating_flags=(--service -s -h --help)
    repeating_options=()
    non_repeating_options=(--url)
    __podlink_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    esac
}

_podlink_play() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=()
    __podlink_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    kube)
        # Offer subcommand argument completions
        "_podlink_play_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'kube' -- "${cur}"))
        ;;
    esac
}

_podlink_play_kube() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--url --start)
    __podlink_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    '--start')
        return
        ;;
    esac
}

_podlink_cp() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--url)
    __podlink_offer_flags_options 2

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    esac
}

_podlink_pull() {
    repeating_flags=()
    non_repeating_flags=(--quiet -q -h --help)
    repeating_options=()
    non_repeating_options=(--url --creds --override-os --override-arch --override-variant)
    __podlink_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    '--creds')
        return
        ;;
    '--override-os')
        return
        ;;
    '--override-arch')
        return
        ;;
    '--override-variant')
        return
        ;;
    esac
}

_podlink_push() {
    repeating_flags=()
    non_repeating_flags=(--quiet -q -h --help)
    repeating_options=()
    non_repeating_options=(--url --format -f)
    __podlink_offer_flags_options 2

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    '--format'|'-f')
        return
        ;;
    esac
}

_podlink_search() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--url --limit --format)
    __podlink_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    '--limit')
        return
        ;;
    '--format')
        __podlink_add_completions -W 'table'$'\n''json'
        return
        ;;
    esac
}

_podlink_save() {
    repeating_flags=()
    non_repeating_flags=(--quiet -q -h --help)
    repeating_options=()
    non_repeating_options=(--url --output -o --format)
    __podlink_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    '--output'|'-o')
        return
        ;;
    '--format')
        return
        ;;
    esac
}

_podlink_export() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--url --output -o)
    __podlink_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    '--output'|'-o')
        return
        ;;
    esac
}

_podlink_commit() {
    repeating_flags=()
    non_repeating_flags=(--quiet -q -h --help)
    repeating_options=(-c --change)
    non_repeating_options=(--url --author -a --message -m --format -f --pause -p)
    __podlink_offer_flags_options 2

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    '-c'|'--change')
        return
        ;;
    '--author'|'-a')
        return
        ;;
    '--message'|'-m')
        return
        ;;
    '--format'|'-f')
        return
        ;;
    '--pause'|'-p')
        return
        ;;
    esac
}

_podlink_history() {
    repeating_flags=()
    non_repeating_flags=(--no-trunc --quiet -q -h --help)
    repeating_options=()
    non_repeating_options=(--url --format)
    __podlink_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    '--format')
        __podlink_add_completions -W 'table'$'\n''json'
        return
        ;;
    esac
}

_podlink_login() {
    repeating_flags=()
    non_repeating_flags=(--password-stdin -h --help)
    repeating_options=()
    non_repeating_options=(--url --username -u --password -p)
    __podlink_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    '--username'|'-u')
        return
        ;;
    '--password'|'-p')
        return
        ;;
    esac
}

_podlink_logout() {
    repeating_flags=()
    non_repeating_flags=(--all -a -h --help)
    repeating_options=()
    non_repeating_options=(--url)
    __podlink_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    esac
}

_podlink_help() {
    :
}

complete -o filenames -F _podlink podlink
