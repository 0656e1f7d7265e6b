#!/usr/bin/env bash
# graphql.sh TOKEN: 20 times the ICB's summary and first 50 cases with their history; ms each, sorted.
Q='{"query":"{ icb { summary { practices nonCompliantPractices casesOpened } cases(first: 50) { totalCount edges { node { id status history { type occurredAt actorRole data } } } } } }"}'
for i in $(seq 1 20); do
  curl -s -o /dev/null -w "%{time_total}\n" -H "Authorization: Bearer $1" -H 'content-type: application/json' -d "$Q" http://127.0.0.1:18080/graphql
done | sort -n | awk '{a[NR]=$1*1000} END {printf "p50 %.1f ms  max %.1f ms\n", a[int(NR/2)], a[NR]}'
curl -s -H "Authorization: Bearer $1" -H 'content-type: application/json' -d "$Q" http://127.0.0.1:18080/graphql | head -c 300; echo
