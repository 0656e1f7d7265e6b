#!/usr/bin/env bash
# pages.sh: signs in as the ICB demo user, then loads its pages 10 times each: p50 and max in ms.
jar=$(mktemp); base=http://127.0.0.1:18080
csrf=$(curl -s -c $jar $base/sign-in | grep -o 'name="_csrf" value="[^"]*"' | head -1 | sed 's/.*value="//;s/"//')
curl -s -b $jar -c $jar -o /dev/null -d "_csrf=$csrf&user=icb-assurance-1" $base/sign-in
case=$(curl -s -b $jar $base/icb/cases | grep -o '/cases/[0-9a-f-]\{36\}' | head -1)
for page in /icb /icb/cases $case /lmc /diversions; do
  for i in $(seq 1 10); do curl -s -b $jar -o /dev/null -w "%{time_total} %{http_code}\n" $base$page; done | sort -n |
    awk -v p=$page '{a[NR]=$1*1000; c=$2} END {printf "%-50s p50 %6.1f ms  max %6.1f ms  (%s)\n", p, a[int(NR/2)], a[NR], c}'
done
